/**
 * Where a repository passphrase must never appear, checked on the compiled binary: the
 * hub's database files (SQLite and its WAL), every process's argv while borg runs
 * (/proc/PID/cmdline), the hub's and the agent's output, the agent's config, state and
 * outbox, and every API answer about the repository and its jobs. The passphrase holds
 * a backslash, quotes and a "$(…)" so that escaped forms (repr, JSON, shell) are looked for too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import type { Job, Machine } from "../../src/shared/protocol/api.ts";
import { hostBinary } from "../helpers/binary.ts";

const ADMIN_PASSWORD = "e2e-secrets-admin-password";
const PASSPHRASE = `s3cr\\et 'pass' "phrase" $(id) ${crypto.randomUUID()}`;
const FORMS = [
  PASSPHRASE,
  JSON.stringify(PASSPHRASE).slice(1, -1),
  PASSPHRASE.replaceAll("\\", "\\\\"),
  encodeURIComponent(PASSPHRASE),
  // The random tail alone: found anywhere, some encoding of the passphrase leaked.
  PASSPHRASE.slice(-36),
];

let binary: string;
let dir: string;
const processes: SpawnedProcess[] = [];
const output: string[] = [];

function startRole(args: string[], env: Record<string, string>) {
  const listening = Promise.withResolvers<string>();
  const proc = spawnProcess({
    argv: [binary, ...args],
    cwd: dir,
    env: { NO_COLOR: "1", HOME: dir, PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    onStdoutLine: (line) => output.push(line),
    onStderrLine: (line) => {
      output.push(line);
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  processes.push(proc);
  return { proc, url: listening.promise };
}

/** Every file under dir, as latin1 text (a byte-for-byte search). */
function filesUnder(root: string): { path: string; text: string }[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => statSync(path).size < 64 * 1024 * 1024)
    .map((path) => ({ path, text: readFileSync(path, "latin1") }));
}

const leaks = (where: string, text: string) =>
  FORMS.filter((form) => text.includes(form)).map((form) => `${where}: ${form}`);

/** Samples every process's argv until stopped; returns what it saw of borg. */
function sampleCmdlines() {
  const seen: string[] = [];
  const found: string[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      for (const pid of await readdir("/proc").catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        let cmdline: string;
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
        } catch {
          continue;
        }
        if (cmdline.includes("borg ")) seen.push(cmdline);
        found.push(...leaks(`/proc/${pid}/cmdline`, cmdline));
      }
      await Bun.sleep(5);
    }
  })();
  return {
    seen,
    found,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

beforeAll(async () => {
  binary = await hostBinary();
  dir = await mkdtemp(join(tmpdir(), "borgctl-e2e-secrets-"));
});
afterAll(async () => {
  for (const proc of processes) proc.cancel();
  await Promise.all(processes.map((p) => p.done));
  await rm(dir, { recursive: true, force: true });
});

describe("the passphrase stays secret", () => {
  test("not in the database, argv, output, agent files or API answers", async () => {
    const hub = startRole(["server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "hub")], {
      BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    const url = await hub.url;
    const answers: string[] = [];
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      answers.push(`${method} ${path}: ${text}`);
      return { status: response.status, body: JSON.parse(text || "null") as unknown };
    };
    const admin = (
      (await api("POST", "/api/auth/login", { username: "admin", password: ADMIN_PASSWORD }))
        .body as { token: string }
    ).token;
    const enroll = await api(
      "POST",
      "/api/managed-machines/enrollment-tokens",
      { name: "secrets", expires_in_minutes: 5 },
      admin,
    );
    const agentConfig = join(dir, "agent", "agent.toml");
    const agentEnv = { HOME: dir, NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const registered = await runProcess({
      argv: [binary, "agent", "register", "--server", url, "--token"]
        .concat((enroll.body as { token: string }).token)
        .concat(["--config", agentConfig, "--state-dir", join(dir, "agent-state")]),
      env: agentEnv,
      captureStdout: true,
    });
    expect(registered.exitCode).toBe(0);
    startRole(["agent", "run", "--config", agentConfig], agentEnv);
    let machine: Machine | undefined;
    for (let i = 0; i < 100 && machine?.status !== "online"; i++) {
      await Bun.sleep(100);
      machine = (
        (await api("GET", "/api/managed-machines", undefined, admin)).body as Machine[]
      )[0];
    }
    expect(machine?.status).toBe("online");

    const sources = join(dir, "data");
    await mkdir(sources);
    for (let i = 0; i < 200; i++) {
      await writeFile(
        join(sources, `file-${i}.bin`),
        crypto.getRandomValues(new Uint8Array(65536)),
      );
    }
    const created = await api(
      "POST",
      "/api/repositories",
      {
        name: "secrets",
        agent_machine_id: machine?.id,
        location: join(dir, "repo"),
        passphrase: PASSPHRASE,
        source_paths: [sources],
        compression: "zstd,10",
      },
      admin,
    );
    expect(created.status).toBe(201);
    const repoId = (created.body as { id: number }).id;

    const sampler = sampleCmdlines();
    const jobs: Job[] = [];
    for (const action of ["init", "backup", "list"]) {
      const queued = await api("POST", `/api/repositories/${repoId}/${action}`, {}, admin);
      const jobId = (queued.body as { job_id: number }).job_id;
      for (;;) {
        const job = (await api("GET", `/api/jobs/${jobId}`, undefined, admin)).body as Job;
        if (["completed", "completed_with_warnings", "failed", "canceled"].includes(job.status)) {
          jobs.push(job);
          break;
        }
        await Bun.sleep(50);
      }
      await api("GET", `/api/jobs/${jobId}/logs`, undefined, admin);
    }
    await sampler.stop();
    expect(jobs.map((j) => j.status)).toEqual(["completed", "completed", "completed"]);
    await api("GET", `/api/repositories/${repoId}`, undefined, admin);
    await api("GET", `/api/repositories/${repoId}/archives`, undefined, admin);
    await api("GET", "/api/audit", undefined, admin);

    // The sampler really looked at borg while it ran (else "no leak" would mean nothing).
    expect(sampler.seen.length).toBeGreaterThan(0);
    const found = [
      ...sampler.found,
      ...filesUnder(join(dir, "hub")).flatMap((f) => leaks(f.path, f.text)),
      ...filesUnder(join(dir, "agent")).flatMap((f) => leaks(f.path, f.text)),
      ...filesUnder(join(dir, "agent-state")).flatMap((f) => leaks(f.path, f.text)),
      ...leaks("hub and agent output", output.join("\n")),
      ...answers.flatMap((a) => leaks("API answer", a)),
    ];
    expect(found).toEqual([]);
    // The database files were really searched: the repository row is in them.
    expect(filesUnder(join(dir, "hub")).some((f) => f.text.includes(join(dir, "repo")))).toBe(true);
  });
});
