/**
 * The real composition root (startHub, configured through loadConfig) on 127.0.0.1:
 * X-Forwarded-For and X-Forwarded-Proto count only from a peer in trusted_proxies; they
 * decide the address in the audit trail and the throttles, the session cookie's Secure
 * flag and which Origin is the hub's. And the CLI: the flag is listed, a bad entry is a
 * config error (exit 2) naming the key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningHub, startHub } from "../../../src/server/start.ts";
import { HUB_CONFIG_FIELDS, hubConfigSchema } from "../../../src/shared/config/hub.ts";
import { loadConfig } from "../../../src/shared/config/load.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { AuditEvent } from "../../../src/shared/protocol/api.ts";

const PASSWORD = "trusted-proxy-test-password";
let dir: string;
const running: RunningHub[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "borgctl-proxies-"));
});
afterAll(async () => {
  for (const hub of running) await hub.stop();
  await rm(dir, { recursive: true, force: true });
});

async function hubWith(env: Record<string, string>): Promise<RunningHub> {
  const config = await loadConfig(hubConfigSchema(dir, join(dir, "unused")), HUB_CONFIG_FIELDS, {
    role: "server",
    env: {
      BORGCTL_ADDR: "127.0.0.1:0",
      BORGCTL_DATA_DIR: join(dir, `hub-${running.length}`),
      BORGCTL_ADMIN_PASSWORD: PASSWORD,
      ...env,
    },
    flags: {},
  });
  const hub = await startHub(config, {
    logger: createLogger({ level: "silent" }),
    announce: () => {},
  });
  running.push(hub);
  return hub;
}

const login = (hub: RunningHub, headers: Record<string, string>, password = PASSWORD) =>
  fetch(`${hub.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username: "admin", password }),
  });

async function sessionOf(hub: RunningHub): Promise<string> {
  const response = await login(hub, {});
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** The address the audit trail kept for the newest failed login. */
async function lastFailedLoginIp(hub: RunningHub): Promise<string | null> {
  const token = await sessionOf(hub);
  const response = await fetch(`${hub.url}/api/audit?action=auth.login_failed&limit=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const [event] = AuditEvent.array().parse(await response.json());
  return event?.ip ?? null;
}

describe("behind a trusted proxy", () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await hubWith({ BORGCTL_TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1" });
  });

  test("the client address is the right-most X-Forwarded-For entry that is not a proxy", async () => {
    const failed = await login(
      hub,
      { "x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.1.2.3" },
      "a-wrong-password",
    );
    expect(failed.status).toBe(401);
    expect(await lastFailedLoginIp(hub)).toBe("203.0.113.5");
  });

  test("X-Forwarded-Proto: https makes the session cookie Secure", async () => {
    const https = await login(hub, { "x-forwarded-proto": "https" });
    expect(https.status).toBe(200);
    expect(https.headers.get("set-cookie")).toContain("Secure");
    const http = await login(hub, { "x-forwarded-proto": "http" });
    expect(http.headers.get("set-cookie")).not.toContain("Secure");
  });

  test("when the browser came over https, an http page on the same host is another origin", async () => {
    const token = await sessionOf(hub);
    const change = (origin: string) =>
      fetch(`${hub.url}/api/tokens`, {
        method: "POST",
        headers: {
          cookie: `borgctl_session=${token}`,
          origin,
          "x-forwarded-proto": "https",
          "content-type": "application/json",
        },
        body: JSON.stringify({ name: `from ${origin}` }),
      });
    const host = new URL(hub.url).host;
    expect((await change(`http://${host}`)).status).toBe(403);
    expect((await change(`https://${host}`)).status).toBe(201);
  });
});

describe("without trusted proxies (the default)", () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await hubWith({});
  });

  test("X-Forwarded-For is ignored: the peer is the client", async () => {
    const failed = await login(hub, { "x-forwarded-for": "203.0.113.5" }, "a-wrong-password");
    expect(failed.status).toBe(401);
    expect(await lastFailedLoginIp(hub)).toBe("127.0.0.1");
  });

  test("X-Forwarded-Proto is ignored: no Secure cookie over plain HTTP", async () => {
    const response = await login(hub, { "x-forwarded-proto": "https" });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).not.toContain("Secure");
  });

  test("a peer outside the list is not trusted either", async () => {
    const other = await hubWith({ BORGCTL_TRUSTED_PROXIES: "10.0.0.0/8,fd00::/8" });
    await login(other, { "x-forwarded-for": "203.0.113.5" }, "a-wrong-password");
    expect(await lastFailedLoginIp(other)).toBe("127.0.0.1");
  });
});

describe("an https public_url", () => {
  test("makes the cookie Secure and its origin the hub's", async () => {
    const hub = await hubWith({ BORGCTL_PUBLIC_URL: "https://backup.example.com/" });
    const fromPublic = await login(hub, { origin: "https://backup.example.com" });
    expect(fromPublic.status).toBe(200);
    expect(fromPublic.headers.get("set-cookie")).toContain("Secure");
    expect((await login(hub, { origin: "https://example.com" })).status).toBe(403);
  });
});

describe("borgctl server", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runProcess({
      argv: [process.execPath, join(import.meta.dir, "../../../src/main.ts"), "server", ...args],
      env: { NO_COLOR: "1", HOME: dir, ...env },
      captureStdout: true,
    });

  test("--help lists --trusted-proxies and its variable", async () => {
    const help = await cli(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("--trusted-proxies");
    expect(help.stdout).toContain("BORGCTL_TRUSTED_PROXIES");
  });

  test("a bad entry is a config error naming the key, from the flag, the environment or the file", async () => {
    const dataDir = join(dir, "never-created");
    const flag = await cli(["--data-dir", dataDir, "--trusted-proxies", "10.0.0.0/8,proxy.lan"]);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderrTail.join("\n")).toContain('trusted_proxies.1: "proxy.lan"');
    expect(flag.stderrTail.join("\n")).toContain("flag --trusted-proxies");
    const env = await cli(["--data-dir", dataDir], { BORGCTL_TRUSTED_PROXIES: "10.0.0.0/40" });
    expect(env.exitCode).toBe(2);
    expect(env.stderrTail.join("\n")).toContain("trusted_proxies.0");
    expect(env.stderrTail.join("\n")).toContain("env BORGCTL_TRUSTED_PROXIES");
    const toml = join(dir, "server.toml");
    await writeFile(toml, 'trusted_proxies = ["10.0.0.0/8", "fd00::/8", "::1/129"]\n');
    const file = await cli(["--config", toml, "--data-dir", dataDir]);
    expect(file.exitCode).toBe(2);
    expect(file.stderrTail.join("\n")).toContain('trusted_proxies.2: "::1/129"');
  });
});
