import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOX_CONFIG_FIELDS, boxConfigSchema } from "../../../../src/shared/config/box.ts";
import { HUB_CONFIG_FIELDS, hubConfigSchema } from "../../../../src/shared/config/hub.ts";
import { ConfigError, loadConfig } from "../../../../src/shared/config/load.ts";

let dir: string;
const TOKEN = "tok-from-somewhere-0123456789";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "borgctl-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (input: {
  toml?: string;
  env?: Record<string, string>;
  flags?: Record<string, unknown>;
}) =>
  (async () => {
    let file: { path: string; required: boolean } | undefined;
    if (input.toml !== undefined) {
      const path = join(dir, `box-${Math.random().toString(36).slice(2)}.toml`);
      await writeFile(path, input.toml);
      file = { path, required: true };
    }
    return loadConfig(boxConfigSchema("/home/borg"), BOX_CONFIG_FIELDS, {
      role: "box",
      file,
      env: input.env ?? {},
      flags: input.flags ?? {},
    });
  })();

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("defaults follow borgbox: :9999, ~/repos, ~/.ssh/authorized_keys", async () => {
    const config = await load({ env: { BORGBOX_TOKEN: TOKEN } });
    expect(config.addr).toEqual({ hostname: "0.0.0.0", port: 9999 });
    expect(config.repo_root).toBe("/home/borg/repos");
    expect(config.auth_keys).toBe("/home/borg/.ssh/authorized_keys");
    expect(config.token).toBe(TOKEN);
  });

  test("precedence is file < environment < flags", async () => {
    const toml = `addr = "127.0.0.1:1000"\nrepo_root = "/file/repos"\nauth_keys = "/file/keys"\ntoken = "${TOKEN}"\n`;
    const config = await load({
      toml,
      env: { BORGBOX_REPO_ROOT: "/env/repos", BORGBOX_ADDR: "127.0.0.1:2000" },
      flags: { addr: "127.0.0.1:3000" },
    });
    expect(config.addr.port).toBe(3000);
    expect(config.repo_root).toBe("/env/repos");
    expect(config.auth_keys).toBe("/file/keys");
  });

  test("secrets: @file, <ENV>_FILE and <key>_file read the file, minus a trailing newline", async () => {
    const secretPath = join(dir, "token");
    await writeFile(secretPath, `${TOKEN}\n`);
    expect((await load({ env: { BORGBOX_TOKEN: `@${secretPath}` } })).token).toBe(TOKEN);
    expect((await load({ env: { BORGBOX_TOKEN_FILE: secretPath } })).token).toBe(TOKEN);
    expect((await load({ toml: `token_file = "${secretPath}"\n` })).token).toBe(TOKEN);
    expect((await load({ flags: { token: `@${secretPath}` } })).token).toBe(TOKEN);
  });

  test("every problem is listed with its key and source", async () => {
    const error = await configError(
      load({
        toml: `colour = "blue"\n`,
        env: { BORGBOX_ADDR: "nonsense", BORGBOX_TOKEN: "short" },
      }),
    );
    expect(error.issues).toHaveLength(3);
    expect(error.message).toContain("colour: unknown setting");
    expect(error.message).toContain("addr: ");
    expect(error.message).toContain("(from env BORGBOX_ADDR)");
    expect(error.message).toContain(
      "token: must be at least 16 characters (from env BORGBOX_TOKEN)",
    );
  });

  test("a missing token says how to set it", async () => {
    const error = await configError(load({}));
    expect(error.message).toContain("token: is required: set BORGBOX_TOKEN");
  });

  test("an unreadable secret file is reported, without the value", async () => {
    const error = await configError(load({ env: { BORGBOX_TOKEN: "@/nonexistent/token" } }));
    expect(error.message).toContain("cannot read secret file /nonexistent/token (ENOENT)");
  });

  test("a config file that is not TOML, or named but missing, is an error", async () => {
    expect((await configError(load({ toml: "addr = [unclosed" }))).message).toContain(
      "not valid TOML",
    );
    const missing = loadConfig(boxConfigSchema("/h"), BOX_CONFIG_FIELDS, {
      role: "box",
      file: { path: join(dir, "nope.toml"), required: true },
      env: { BORGBOX_TOKEN: TOKEN },
      flags: {},
    });
    expect((await configError(missing)).message).toContain("cannot read config file");
  });

  test("~ and relative paths are made absolute", async () => {
    const config = await load({
      env: { BORGBOX_TOKEN: TOKEN, BORGBOX_REPO_ROOT: "~/r", BORGBOX_AUTH_KEYS: "k" },
    });
    expect(config.repo_root).toBe("/home/borg/r");
    expect(config.auth_keys).toBe(join(process.cwd(), "k"));
  });
});

describe("hub settings", () => {
  const loadHub = (env: Record<string, string>, flags: Record<string, unknown> = {}) =>
    loadConfig(hubConfigSchema("/home/borg", "/var/lib/borgctl"), HUB_CONFIG_FIELDS, {
      role: "server",
      env,
      flags,
    });

  test("box_low_space_percent: 10 by default, a number from env or flag, 0 to 100", async () => {
    expect((await loadHub({})).box_low_space_percent).toBe(10);
    expect((await loadHub({ BORGCTL_BOX_LOW_SPACE_PERCENT: "5" })).box_low_space_percent).toBe(5);
    expect((await loadHub({}, { "box-low-space-percent": "2.5" })).box_low_space_percent).toBe(2.5);
    for (const bad of ["150", "-1", "lots"]) {
      const error = await configError(loadHub({ BORGCTL_BOX_LOW_SPACE_PERCENT: bad }));
      expect(error.message).toContain(
        "box_low_space_percent: must be a number from 0 to 100 (from env BORGCTL_BOX_LOW_SPACE_PERCENT)",
      );
    }
  });
});
