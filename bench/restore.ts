/**
 * Browse and restore through the hub (issue 16), with baselines measured in the same run.
 *
 * Browse: an archive of BENCH_FILES (1,000,000) files — generated, empty, 1,000 to a
 * directory — backed up through the hub. Then the first `GET …/tree?path=/` (202, the
 * archive.browse job: `borg list --json-lines`, spooled, uploaded in chunks, stored in the
 * hub's SQLite) is timed until the first level answers 200; next to it, the same `borg
 * list --json-lines` run directly with stdout thrown away, the floor for the listing.
 * Peak RSS (VmHWM) of the hub and the agent process is read before and after; the upload
 * size comes from the agent's own log line. A level answered from the cache afterwards is
 * timed too (median of 20).
 *
 * Restore: BENCH_RESTORE_MB (256) MiB of random data in 8 files, restored through the hub
 * (POST …/restore until the job completes, client-observed, 50 ms polls) against the same
 * `borg extract` run directly into a fresh directory (same archive, path and environment
 * but its own borg base dir), BENCH_ROUNDS (3) rounds of the three modes, the order
 * reversed every other round. Into a destination that already holds something, without
 * overwrite, the agent lists the members first (the conflict check), one more pass over
 * the archive's metadata: on an archive of many files that pass, not the data,
 * dominates; into a new directory, or with overwrite, there is none.
 *
 * Download: the same 8 files one after another through the hub (GET …/download, the
 * body read and dropped) against `borg extract --stdout` of each run directly (stdout
 * read and dropped), same rounds and order; the hub's and agent's peak RSS around it.
 * Not a test: prints tables. With 1,000,000 files the backup alone takes a while.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExtractCommand, buildExtractToStdoutCommand } from "../src/borg/commands/extract.ts";
import { buildListArchiveCommand } from "../src/borg/commands/list-archive.ts";
import { buildBorgEnv } from "../src/borg/env.ts";
import { featuresFor } from "../src/borg/features.ts";
import { parseBorgVersion } from "../src/borg/version.ts";
import { runProcess, type SpawnedProcess, spawnProcess } from "../src/shared/process/spawn.ts";
import type { Job, Machine } from "../src/shared/protocol/api.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { printTable, summarize } from "./stats.ts";

const FILES = Number(process.env.BENCH_FILES ?? 1_000_000);
const PER_DIR = 1000;
const RESTORE_MIB = Number(process.env.BENCH_RESTORE_MB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PASSPHRASE = "bench restore passphrase";
const ADMIN_PASSWORD = "bench-restore-admin-password";

async function hwmKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

const mib = (kib: number) => (kib / 1024).toFixed(0);

async function makeTree(root: string): Promise<void> {
  for (let d = 0; d * PER_DIR < FILES; d++) {
    const dir = join(root, "many", `d${String(d).padStart(4, "0")}`);
    await mkdir(dir, { recursive: true });
    const writes: Promise<unknown>[] = [];
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) {
      writes.push(writeFile(join(dir, `f${String(f).padStart(4, "0")}`), ""));
    }
    await Promise.all(writes);
  }
  await mkdir(join(root, "big"), { recursive: true });
  for (let i = 0; i < 8; i++) {
    await writeFile(join(root, "big", `blob-${i}`), randomBytes((RESTORE_MIB * 1024 * 1024) / 8));
  }
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-restore-"));
const processes: SpawnedProcess[] = [];
try {
  const binary = await hostBinary();
  const data = join(dir, "data");
  let t = performance.now();
  await makeTree(data);
  console.log(
    `generated ${FILES} files + ${RESTORE_MIB} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const listening = Promise.withResolvers<string>();
  const hub = spawnProcess({
    argv: [binary, "server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "hub")],
    cwd: dir,
    env: { NO_COLOR: "1", HOME: dir, BORGCTL_ADMIN_PASSWORD: ADMIN_PASSWORD },
    onStderrLine: (line) => {
      const url = /listening on (http:\/\/\S+?)(\/api\/v1)?(\s|$)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  processes.push(hub);
  const hubUrl = await listening.promise;
  let admin = "";
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${hubUrl}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(admin ? { authorization: `Bearer ${admin}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  admin = (
    (await call("POST", "/api/auth/login", { username: "admin", password: ADMIN_PASSWORD }))
      .body as { token: string }
  ).token;
  const enroll = (
    await call("POST", "/api/managed-machines/enrollment-tokens", {
      name: "bench",
      expires_in_minutes: 5,
    })
  ).body as { token: string };
  const agentConfig = join(dir, "agent", "agent.toml");
  const agentEnv = { HOME: dir, NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const registered = await runProcess({
    argv: [
      binary,
      "agent",
      "register",
      "--server",
      hubUrl,
      "--token",
      enroll.token,
      "--config",
      agentConfig,
      "--state-dir",
      join(dir, "agent-state"),
    ],
    env: agentEnv,
    captureStdout: true,
  });
  if (registered.exitCode !== 0) throw new Error(registered.stderrTail.join("\n"));
  const agent = spawnProcess({
    argv: [binary, "agent", "run", "--config", agentConfig],
    env: agentEnv,
  });
  processes.push(agent);
  let machine: Machine | undefined;
  while (machine?.status !== "online") {
    await Bun.sleep(100);
    machine = ((await call("GET", "/api/managed-machines")).body as Machine[])[0];
  }
  const repo = join(dir, "repo");
  const created = await call("POST", "/api/repositories", {
    name: "bench",
    agent_machine_id: machine.id,
    location: repo,
    passphrase: PASSPHRASE,
    source_paths: [data],
  });
  const repositoryId = (created.body as { id: number }).id;
  const waitJob = async (jobId: number) => {
    for (;;) {
      const job = (await call("GET", `/api/jobs/${jobId}`)).body as Job;
      if (["completed", "completed_with_warnings", "failed", "canceled"].includes(job.status))
        return job;
      await Bun.sleep(50);
    }
  };
  const action = async (name: string, body: unknown = {}) => {
    const queued = await call("POST", `/api/repositories/${repositoryId}/${name}`, body);
    const job = await waitJob((queued.body as { job_id: number }).job_id);
    if (job.status !== "completed") throw new Error(`${name}: ${job.status} ${job.error_message}`);
    return job;
  };
  await action("init");
  t = performance.now();
  const backup = await action("backup");
  console.log(
    `backup of ${backup.result?.stats?.nfiles} files took ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const archive = backup.result?.archive_name as string;
  const member = data.replace(/^\/+/, "");

  // --- browse -------------------------------------------------------------------------
  const features = featuresFor(
    parseBorgVersion(
      (await runProcess({ argv: ["borg", "--version"], captureStdout: true })).stdout,
    ) ??
      (() => {
        throw new Error("no borg");
      })(),
  );
  const directEnv = {
    ...buildBorgEnv({
      passphrase: PASSPHRASE,
      baseDir: join(dir, "direct-base"),
      relocatedOk: true,
    }),
    PATH: process.env.PATH ?? "",
  };
  t = performance.now();
  const listed = await runProcess({
    argv: ["borg", ...buildListArchiveCommand(features, { repo, archive }).argv],
    env: directEnv,
  });
  const directListMs = performance.now() - t;
  if (listed.exitCode !== 0) throw new Error(`borg list: ${listed.stderrTail.join("\n")}`);

  const before = { hub: await hwmKiB(hub.pid), agent: await hwmKiB(agent.pid) };
  const tree = (path: string) =>
    call(
      "GET",
      `/api/repositories/${repositoryId}/archives/${encodeURIComponent(archive)}/tree?path=${encodeURIComponent(path)}`,
    );
  t = performance.now();
  const first = await tree("/");
  const browseJob = await waitJob((first.body as { job_id: number }).job_id);
  const firstLevel = await tree("/");
  const firstLevelMs = performance.now() - t;
  if (firstLevel.status !== 200) throw new Error(`tree: ${firstLevel.status}`);
  const after = { hub: await hwmKiB(hub.pid), agent: await hwmKiB(agent.pid) };
  const logs = (await call("GET", `/api/jobs/${browseJob.id}/logs?limit=1000`)).body as {
    logs: { message: string }[];
  };
  const uploadLine = logs.logs
    .map((l) => /listing uploaded: (\d+) entries in (\d+) chunks, (\d+) bytes/.exec(l.message))
    .find(Boolean);
  const uploaded = uploadLine?.[3];
  const chunkCount = uploadLine?.[2] ?? "?";
  const cached: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    const level = await tree(`/${member}/many/d0000`);
    cached.push(performance.now() - s);
    if ((level.body as { entries: unknown[] }).entries.length !== Math.min(PER_DIR, FILES))
      throw new Error("short level");
  }
  printTable(
    `Browse an archive of ${FILES.toLocaleString()} files`,
    ["measure", "value"],
    [
      ["borg list --json-lines, direct (baseline)", `${(directListMs / 1000).toFixed(1)} s`],
      [
        "first GET tree → first level answered",
        `${(firstLevelMs / 1000).toFixed(1)} s (×${(firstLevelMs / directListMs).toFixed(2)})`,
      ],
      ["entries stored / chunks", `${browseJob.result?.entry_count} / ${chunkCount}`],
      ["upload size", uploaded ? `${(Number(uploaded) / 1024 / 1024).toFixed(1)} MiB` : "?"],
      ["hub peak RSS before → after", `${mib(before.hub)} → ${mib(after.hub)} MiB`],
      ["agent peak RSS before → after", `${mib(before.agent)} → ${mib(after.agent)} MiB`],
      [
        "a cached level of 1,000 entries (median of 20)",
        `${summarize(cached).median.toFixed(1)} ms`,
      ],
    ],
  );

  // --- restore ------------------------------------------------------------------------
  // Each round runs the three modes, in reversed order every other round.
  const ORDER = ["direct", "agent", "agent-check", "agent-overwrite"] as const;
  const modes = Array.from({ length: ROUNDS }, (_, r) =>
    r % 2 === 0 ? [...ORDER] : [...ORDER].reverse(),
  ).flat();
  const times: Record<string, number[]> = {
    direct: [],
    agent: [],
    "agent-check": [],
    "agent-overwrite": [],
  };
  for (const [round, mode] of modes.entries()) {
    const destination = join(dir, "restored", `${mode}-${round}`);
    await rm(destination, { recursive: true, force: true });
    await runProcess({ argv: ["sync"] });
    const start = performance.now();
    if (mode === "direct") {
      await mkdir(destination, { recursive: true });
      const run = await runProcess({
        argv: [
          "borg",
          ...buildExtractCommand(features, { repo, archive, paths: [`${member}/big`] }).argv,
        ],
        env: directEnv,
        cwd: destination,
      });
      if (run.exitCode !== 0) throw new Error(`borg extract: ${run.stderrTail.join("\n")}`);
    } else {
      if (mode === "agent-check") {
        // Something unrelated already there: the agent must check every member against it.
        await mkdir(destination, { recursive: true });
        await writeFile(join(destination, "already-here"), "");
      }
      const queued = await call("POST", `/api/repositories/${repositoryId}/restore`, {
        archive,
        paths: [`/${member}/big`],
        destination,
        overwrite: mode === "agent-overwrite",
      });
      const job = await waitJob((queued.body as { job_id: number }).job_id);
      if (job.status !== "completed")
        throw new Error(`restore: ${job.status} ${job.error_message}`);
    }
    times[mode]?.push(performance.now() - start);
  }
  const direct = summarize(times.direct ?? []).median;
  const row = (label: string, ms: number) => [
    label,
    `${(ms / 1000).toFixed(2)} s`,
    (RESTORE_MIB / (ms / 1000)).toFixed(0),
    (ms / direct).toFixed(2),
  ];
  printTable(
    `Restore ${RESTORE_MIB} MiB (8 files) from an archive of ${FILES.toLocaleString()} files, median of ${ROUNDS}`,
    ["mode", "time", "MiB/s", "ratio"],
    [
      row("borg extract, direct (baseline)", direct),
      row("through hub + agent, into a new directory", summarize(times.agent ?? []).median),
      row(
        "through hub + agent, into a used directory (checks for conflicts first)",
        summarize(times["agent-check"] ?? []).median,
      ),
      row("through hub + agent, overwrite", summarize(times["agent-overwrite"] ?? []).median),
    ],
  );

  // --- download -----------------------------------------------------------------------
  const blobs = Array.from({ length: 8 }, (_, i) => `${member}/big/blob-${i}`);
  const drop = async (stream: ReadableStream<Uint8Array> | null) => {
    let bytes = 0;
    if (stream) for await (const chunk of stream) bytes += chunk.byteLength;
    return bytes;
  };
  const downloadTimes: Record<"direct" | "hub", number[]> = { direct: [], hub: [] };
  const beforeDownload = { hub: await hwmKiB(hub.pid), agent: await hwmKiB(agent.pid) };
  for (let round = 0; round < ROUNDS * 2; round++) {
    const mode = (round % 4 === 0 || round % 4 === 3 ? "direct" : "hub") as "direct" | "hub";
    const start = performance.now();
    let bytes = 0;
    for (const blob of blobs) {
      if (mode === "direct") {
        const run = spawnProcess({
          argv: [
            "borg",
            ...buildExtractToStdoutCommand(features, { repo, archive, path: blob }).argv,
          ],
          env: directEnv,
          onStdoutChunk: (chunk) => {
            bytes += chunk.byteLength;
          },
        });
        if ((await run.done).exitCode !== 0) throw new Error("borg extract --stdout failed");
      } else {
        const response = await fetch(
          `${hubUrl}/api/repositories/${repositoryId}/archives/${encodeURIComponent(archive)}/download?path=${encodeURIComponent(`/${blob}`)}`,
          { headers: { authorization: `Bearer ${admin}` } },
        );
        if (response.status !== 200) throw new Error(`download: ${response.status}`);
        bytes += await drop(response.body);
      }
    }
    if (bytes !== RESTORE_MIB * 1024 * 1024) throw new Error(`${mode}: ${bytes} bytes`);
    downloadTimes[mode].push(performance.now() - start);
  }
  const afterDownload = { hub: await hwmKiB(hub.pid), agent: await hwmKiB(agent.pid) };
  const directDownload = summarize(downloadTimes.direct).median;
  const downloadRow = (label: string, ms: number) => [
    label,
    `${(ms / 1000).toFixed(2)} s`,
    (RESTORE_MIB / (ms / 1000)).toFixed(0),
    (ms / directDownload).toFixed(2),
  ];
  printTable(
    `Download ${RESTORE_MIB} MiB as 8 files, one after another, median of ${ROUNDS} (ABBA)`,
    ["mode", "time", "MiB/s", "ratio"],
    [
      downloadRow("borg extract --stdout, direct (baseline)", directDownload),
      downloadRow("GET …/download through hub + agent", summarize(downloadTimes.hub).median),
      [
        "hub / agent peak RSS before → after",
        `${mib(beforeDownload.hub)} → ${mib(afterDownload.hub)} MiB`,
        `${mib(beforeDownload.agent)} → ${mib(afterDownload.agent)} MiB`,
        "",
      ],
    ],
  );
} finally {
  for (const proc of processes.reverse()) {
    proc.cancel();
    await proc.done.catch(() => {});
  }
  await rm(dir, { recursive: true, force: true });
}
