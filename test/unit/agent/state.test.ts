import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import {
  AgentStateError,
  assertPrivateFile,
  defaultConfigPath,
  defaultStateDir,
  writeAgentConfig,
} from "../../../src/agent/state.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("agent paths", () => {
  const user = { env: {}, platform: "linux" as const, uid: 1000, home: "/home/ann" };
  test("the spec's platform paths", () => {
    expect(defaultConfigPath({ ...user, uid: 0 })).toBe("/etc/borgctl/agent.toml");
    expect(defaultConfigPath(user)).toBe("/home/ann/.config/borgctl/agent.toml");
    expect(defaultConfigPath({ ...user, platform: "darwin", home: "/Users/ann" })).toBe(
      "/Users/ann/Library/Application Support/borgctl/agent.toml",
    );
    expect(defaultConfigPath({ ...user, env: { BORGCTL_AGENT_CONFIG: "/opt/a.toml" } })).toBe(
      "/opt/a.toml",
    );
    expect(defaultStateDir({ ...user, uid: 0 })).toBe("/var/lib/borgctl/agent");
    expect(defaultStateDir(user)).toBe("/home/ann/.local/share/borgctl/agent");
  });
});

describe("agent config file", () => {
  test("written 0600 in a 0700 dir; a world-readable one is refused with the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "borgctl-agent-state-"));
    dirs.push(dir);
    const path = join(dir, "conf", "agent.toml");
    await writeAgentConfig(path, {
      server_url: "https://hub.example",
      agent_id: "agt_x",
      agent_token: "borgctl_agent_secret",
      state_dir: join(dir, "state"),
      insecure: false,
      poll_wait_seconds: 25,
      heartbeat_interval_seconds: 30,
      log_level: "info",
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "conf")).mode & 0o777).toBe(0o700);
    expect(parse(await readFile(path, "utf8"))).toMatchObject({ agent_id: "agt_x" });
    await assertPrivateFile(path, "agent config");
    chmodSync(path, 0o644);
    const error = await assertPrivateFile(path, "agent config").catch((e) => e);
    expect(error).toBeInstanceOf(AgentStateError);
    expect(error.message).toContain(`chmod 600 ${path}`);
    await expect(assertPrivateFile(join(dir, "missing.toml"), "agent config")).rejects.toThrow(
      "agent register",
    );
  });
});
