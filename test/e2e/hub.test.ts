/**
 * The compiled hub as a process: first start in an empty data dir, login, restart on the
 * same data, and two hubs starting at once on one database (migrations must not race).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { hostBinary } from "../helpers/binary.ts";

const PASSWORD = "e2e-admin-password-123";
let binary: string;
let dir: string;
/** Every hub started, so a failing test cannot leave one running. */
const running: SpawnedProcess[] = [];

beforeAll(async () => {
  binary = await hostBinary();
  dir = await mkdtemp(join(tmpdir(), "borgctl-hub-e2e-"));
});
afterAll(async () => {
  for (const proc of running) proc.cancel();
  await Promise.all(running.map((p) => p.done));
  await rm(dir, { recursive: true, force: true });
});

interface Hub {
  url: string;
  proc: SpawnedProcess;
  stdout: string[];
  stderr: string[];
}

async function startHub(
  dataDir: string,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<Hub> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listening = Promise.withResolvers<string>();
  const proc = spawnProcess({
    argv: [binary, "server", "--addr", "127.0.0.1:0", "--data-dir", dataDir, ...extraArgs],
    cwd: "/",
    env: { NO_COLOR: "1", HOME: dir, ...env },
    onStdoutLine: (line) => stdout.push(line),
    onStderrLine: (line) => {
      stderr.push(line);
      const url = /listening on (https?:\/\/\S+)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  running.push(proc);
  const url = await Promise.race([
    listening.promise,
    proc.done.then((r) => {
      throw new Error(`hub exited (${r.exitCode}): ${stderr.join("\n")}`);
    }),
  ]);
  return { url, proc, stdout, stderr };
}

async function stop(hub: Hub) {
  process.kill(hub.proc.pid, "SIGTERM");
  const result = await hub.proc.done;
  expect(result.exitCode).toBe(0);
}

const login = (url: string, password: string) =>
  fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });

describe("compiled hub", () => {
  test("first start prints a generated admin password once; restart keeps the data", async () => {
    const dataDir = join(dir, "generated");
    const first = await startHub(dataDir);
    // stdout and stderr are separate pipes: the password line may arrive after "listening".
    for (let i = 0; i < 50 && !first.stdout.some((l) => l.includes('created user "admin"')); i++) {
      await Bun.sleep(100);
    }
    const line = first.stdout.find((l) => l.includes('created user "admin"')) ?? "";
    const password = /password (\S+)/.exec(line)?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await login(first.url, password)).status).toBe(200);
    expect(first.stderr.join("\n")).not.toContain(password);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "borgctl.sqlite")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
    await stop(first);

    const second = await startHub(dataDir);
    expect(second.stdout.join("\n")).not.toContain("created user");
    expect(second.stderr.join("\n")).not.toContain("database migrated");
    expect((await login(second.url, password)).status).toBe(200);
    await stop(second);
  });

  test("on a SQLite file, its WAL checkpoints run on their own thread (the compiled worker loads)", async () => {
    const hub = await startHub(join(dir, "wal"), {
      BORGCTL_ADMIN_PASSWORD: PASSWORD,
      BORGCTL_LOG_LEVEL: "debug",
    });
    const ready = () =>
      hub.stderr.some((l) => l.includes("WAL checkpoints run on their own thread"));
    for (let i = 0; i < 100 && !ready(); i++) await Bun.sleep(50);
    expect(ready()).toBe(true);
    // Neither of the fallback's warnings (checkpointer.ts): the thread started and stayed.
    expect(hub.stderr.filter((l) => /checkpoint (thread|failed)/.test(l))).toEqual([]);
    await stop(hub);
  });

  test("two hubs starting at once on one empty data dir both come up, with one admin", async () => {
    const dataDir = join(dir, "race");
    const env = { BORGCTL_ADMIN_PASSWORD: PASSWORD };
    const [a, b] = await Promise.all([startHub(dataDir, env), startHub(dataDir, env)]);
    const health = await Promise.all(
      [a, b].map((h) => fetch(`${h.url}/api/health`).then((r) => r.status)),
    );
    expect(health).toEqual([200, 200]);
    const token = ((await (await login(a.url, PASSWORD)).json()) as { token: string }).token;
    const users = (await (
      await fetch(`${b.url}/api/users`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as unknown[];
    expect(users).toHaveLength(1);
    await Promise.all([stop(a), stop(b)]);
  });

  test("--tls-cert/--tls-key serve HTTPS, and the session cookie is Secure", async () => {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const made = await runProcess({
      argv: [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
      ],
      stderrTailLines: 5,
    });
    expect(made.exitCode).toBe(0);
    const hub = await startHub(join(dir, "tls"), { BORGCTL_ADMIN_PASSWORD: PASSWORD }, [
      "--tls-cert",
      cert,
      "--tls-key",
      key,
    ]);
    expect(hub.url).toStartWith("https://");
    const response = await fetch(`${hub.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: PASSWORD }),
      tls: { rejectUnauthorized: false },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toContain("Secure");
    await stop(hub);
  });
});
