/**
 * The whole product as a user runs it: the compiled binary as three processes (hub,
 * box, agent) on 127.0.0.1 plus a real sshd for the box. The agent enrolls, the box
 * pins the agent's key to one repo, and the hub's jobs make the agent run borg over ssh.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import type { Job, Machine } from "../../src/shared/protocol/api.ts";
import { hostBinary } from "../helpers/binary.ts";
import { startSshd, type TestSshd } from "../helpers/sshd.ts";

const ADMIN_PASSWORD = "e2e-admin-password-456";
const BOX_TOKEN = "e2e-box-token-0123456789abcdef";
const PASSPHRASE = "e2e repo passphrase";

let binary: string;
let dir: string;
let sshd: TestSshd;
const processes: SpawnedProcess[] = [];

async function startRole(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; proc: SpawnedProcess; lines: string[] }> {
  const lines: string[] = [];
  const listening = Promise.withResolvers<string>();
  const proc = spawnProcess({
    argv: [binary, ...args],
    cwd: dir,
    env: { NO_COLOR: "1", HOME: dir, ...env },
    onStdoutLine: (line) => lines.push(line),
    onStderrLine: (line) => {
      lines.push(line);
      const url = /listening on (http:\/\/\S+?)(\/api\/v1)?(\s|$)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  processes.push(proc);
  const url = await Promise.race([
    listening.promise,
    proc.done.then((r) => {
      throw new Error(`${args[0]} exited (${r.exitCode}): ${lines.join("\n")}`);
    }),
  ]);
  return { url, proc, lines };
}

beforeAll(async () => {
  binary = await hostBinary();
  dir = await mkdtemp(join(tmpdir(), "borgctl-e2e-backup-"));
  await mkdir(join(dir, "ssh"), { mode: 0o700 });
  await writeFile(join(dir, "ssh", "authorized_keys"), "", { mode: 0o600 });
  sshd = await startSshd(join(dir, "ssh", "authorized_keys"));
});
afterAll(async () => {
  for (const proc of processes) proc.cancel();
  await Promise.all(processes.map((p) => p.done));
  await sshd.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("hub + box + agent, compiled, over real ssh", () => {
  test("a machine enrolls, gets a repo on the box, and backs up into it", async () => {
    const hub = await startRole(
      ["server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "hub")],
      {
        BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    );
    const box = await startRole(
      [
        "box",
        "--addr",
        "127.0.0.1:0",
        "--repo-root",
        join(dir, "repos"),
        "--auth-keys",
        join(dir, "ssh", "authorized_keys"),
      ],
      { BORGBOX_TOKEN: BOX_TOKEN },
    );
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const response = await fetch(`${hub.url}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json().catch(() => undefined)) as unknown,
      };
    };
    const login = await api("POST", "/api/auth/login", {
      username: "admin",
      password: ADMIN_PASSWORD,
    });
    const admin = (login.body as { token: string }).token;
    const enrollment = await api(
      "POST",
      "/api/managed-machines/enrollment-tokens",
      { name: "laptop", expires_in_minutes: 5 },
      admin,
    );
    const enrollToken = (enrollment.body as { token: string }).token;

    // borgctl agent register, then run, as separate processes of the compiled binary.
    const agentConfig = join(dir, "agent", "agent.toml");
    const agentEnv = { HOME: dir, NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const registered = await runProcess({
      argv: [
        binary,
        "agent",
        "register",
        "--server",
        hub.url,
        "--token",
        enrollToken,
        "--config",
        agentConfig,
        "--state-dir",
        join(dir, "agent-state"),
        "--name",
        "laptop",
      ],
      env: agentEnv,
      captureStdout: true,
    });
    expect(registered.stderrTail.join("\n")).not.toContain("error");
    expect(registered.exitCode).toBe(0);
    expect(registered.stdout).toContain("Registered as agt_");
    const agentLines: string[] = [];
    const agent = spawnProcess({
      argv: [binary, "agent", "run", "--config", agentConfig],
      env: agentEnv,
      onStderrLine: (line) => agentLines.push(line),
    });
    processes.push(agent);

    let machine: Machine | undefined;
    for (let i = 0; i < 100 && machine?.status !== "online"; i++) {
      await Bun.sleep(100);
      machine = (
        (await api("GET", "/api/managed-machines", undefined, admin)).body as Machine[]
      )[0];
    }
    expect(machine?.status).toBe("online");

    // The box pins the agent's key to one repo.
    const boxApi = (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) =>
      fetch(`${box.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${BOX_TOKEN}`,
          "content-type": "application/json",
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const boxRepo = await boxApi("POST", "/repos", {
      name: "laptop",
      pubkey: machine?.ssh_public_key,
    });
    expect(boxRepo.status).toBe(201);
    const repoPath = ((await boxRepo.json()) as { path: string }).path;

    const sources = join(dir, "data");
    await mkdir(sources);
    for (let i = 0; i < 10; i++)
      await writeFile(join(sources, `note-${i}.txt`), `note ${i}\n`.repeat(100));
    const created = await api(
      "POST",
      "/api/repositories",
      {
        name: "laptop",
        agent_machine_id: machine?.id,
        location: sshd.url(repoPath),
        passphrase: PASSPHRASE,
        source_paths: [sources],
      },
      admin,
    );
    expect(created.status).toBe(201);
    const repoId = (created.body as { id: number }).id;

    const runJob = async (action: string) => {
      const queued = await api("POST", `/api/repositories/${repoId}/${action}`, {}, admin);
      expect(queued.status).toBe(202);
      const jobId = (queued.body as { job_id: number }).job_id;
      for (;;) {
        const job = (await api("GET", `/api/jobs/${jobId}`, undefined, admin)).body as Job;
        if (["completed", "completed_with_warnings", "failed", "canceled"].includes(job.status))
          return job;
        await Bun.sleep(200);
      }
    };
    const init = await runJob("init");
    expect({ status: init.status, error: init.error_message }).toEqual({
      status: "completed",
      error: null,
    });
    const backup = await runJob("backup");
    expect({ status: backup.status, error: backup.error_message }).toEqual({
      status: "completed",
      error: null,
    });
    expect(backup.result?.stats?.nfiles).toBe(10);

    // The box sees the archive the agent made.
    const archives = await boxApi("GET", "/repos/laptop/archives", undefined, {
      "x-borg-passphrase": PASSPHRASE,
    });
    expect(archives.status).toBe(200);
    expect(((await archives.json()) as { name: string }[]).map((a) => a.name)).toEqual([
      backup.result?.archive_name as string,
    ]);

    // A clean stop: SIGTERM to the agent ends it with exit 0.
    process.kill(agent.pid, "SIGTERM");
    expect((await agent.done).exitCode).toBe(0);
    expect(agentLines.join("\n")).not.toContain(PASSPHRASE);
  });
});
