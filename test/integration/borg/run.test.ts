/**
 * The borg module end to end against the real borg binary (1.2.4 on the test machine):
 * builders → env → runBorg → exit classification and parsed output, one repository in
 * a temp dir, steps in order (each needs the previous one's repository state).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBreakLockCommand } from "../../../src/borg/commands/break-lock.ts";
import { buildCheckCommand } from "../../../src/borg/commands/check.ts";
import { buildCompactCommand } from "../../../src/borg/commands/compact.ts";
import { buildCreateCommand } from "../../../src/borg/commands/create.ts";
import { buildInitCommand } from "../../../src/borg/commands/init.ts";
import { buildListCommand } from "../../../src/borg/commands/list.ts";
import { buildPruneCommand } from "../../../src/borg/commands/prune.ts";
import { buildBorgEnv } from "../../../src/borg/env.ts";
import { type BorgFeatures, featuresFor } from "../../../src/borg/features.ts";
import {
  type ArchiveProgressEvent,
  BorgCreateResult,
  BorgListResult,
  type BorgLogEvent,
} from "../../../src/borg/output.ts";
import { detectBorg, runBorg } from "../../../src/borg/run.ts";

const PASSPHRASE = "integration-passphrase";

let dir: string;
let repo: string;
let src: string;
let big: string;
let features: BorgFeatures;
let borgPath: string;
let env: Record<string, string>;

beforeAll(async () => {
  const detected = await detectBorg("borg");
  if (!detected) throw new Error("the integration tests need borg on PATH");
  borgPath = detected.path;
  features = featuresFor(detected.version);

  dir = await mkdtemp(join(tmpdir(), "borgctl-borg-"));
  repo = join(dir, "repos", "main");
  src = join(dir, "src");
  big = join(dir, "big");
  await mkdir(join(src, "sub"), { recursive: true });
  await writeFile(join(src, "data.bin"), randomBytes(3_000_000));
  for (let i = 0; i < 10; i++) await writeFile(join(src, "sub", `f${i}.txt`), `file ${i}\n`);
  // Incompressible, undeduplicable input that takes borg 1.2.4 a few seconds on 2 cores.
  await mkdir(big);
  for (let i = 0; i < 200; i++) await writeFile(join(big, `part${i}.bin`), randomBytes(1_000_000));
  env = buildBorgEnv({ passphrase: PASSPHRASE, baseDir: join(dir, "borg-base") });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("borg end to end", () => {
  test("init a repokey-blake2 repo (parents made)", async () => {
    const result = await runBorg({
      borgPath,
      env,
      command: buildInitCommand(features, {
        repo,
        encryption: "repokey-blake2",
        makeParentDirs: true,
      }),
    });
    expect(result.errorMessage).toBeUndefined();
    expect(result.outcome).toBe("ok");
    expect(await Bun.file(join(repo, "config")).text()).toContain("[repository]");
  });

  test("create: progress events, ok, JSON result with stats", async () => {
    const events: BorgLogEvent[] = [];
    const result = await runBorg({
      borgPath,
      env,
      captureJson: true,
      onEvent: (event) => events.push(event),
      command: buildCreateCommand(features, {
        repo,
        archive: "first",
        paths: [src],
        compression: "lz4",
        excludes: ["*.tmp"],
        oneFileSystem: true,
        excludeCaches: true,
      }),
    });
    expect(result.outcome).toBe("ok");
    const progress = events.filter((e): e is ArchiveProgressEvent => e.type === "archive_progress");
    expect(progress.some((e) => typeof e.nfiles === "number")).toBe(true);
    expect(progress.at(-1)?.finished).toBe(true);
    const parsed = BorgCreateResult.parse(result.json);
    expect(parsed.archive.name).toBe("first");
    expect(parsed.archive.stats.nfiles).toBe(11);
    expect(parsed.archive.stats.original_size).toBeGreaterThan(3_000_000);
  });

  test("list shows the archive with host and user", async () => {
    const result = await runBorg({
      borgPath,
      env,
      captureJson: true,
      command: buildListCommand(features, { repo }),
    });
    expect(result.outcome).toBe("ok");
    const [archive, ...rest] = BorgListResult.parse(result.json).archives;
    expect(rest).toHaveLength(0);
    expect(archive?.name).toBe("first");
    expect(archive?.hostname).toBeString();
    expect(archive?.username).toBeString();
  });

  test("a missing source path is a warning, and the archive is still made", async () => {
    const result = await runBorg({
      borgPath,
      env,
      captureJson: true,
      command: buildCreateCommand(features, {
        repo,
        archive: "second",
        paths: [src, join(dir, "missing")],
      }),
    });
    expect(result).toMatchObject({ outcome: "warning", exitCode: 1 });
    // borg's WARNING line, not the last line of output.
    expect(result.errorMessage).toBe(
      `${join(dir, "missing")}: [Errno 2] No such file or directory: 'missing'`,
    );
    expect(BorgCreateResult.parse(result.json).archive.name).toBe("second");
  });

  test("prune dry run lists what it would prune and prunes nothing", async () => {
    const events: BorgLogEvent[] = [];
    const result = await runBorg({
      borgPath,
      env,
      onEvent: (event) => events.push(event),
      command: buildPruneCommand(features, { repo, keepLast: 1, dryRun: true, glob: "*" }),
    });
    expect(result.outcome).toBe("ok");
    const lines = events.flatMap((e) => (e.type === "log_message" ? [e.message] : []));
    expect(lines.some((line) => /^Would prune:\s+first\b/.test(line))).toBe(true);
    expect(lines.some((line) => /^Keeping archive .*\bsecond\b/.test(line))).toBe(true);
    const list = await runBorg({
      borgPath,
      env,
      captureJson: true,
      command: buildListCommand(features, { repo }),
    });
    expect(BorgListResult.parse(list.json).archives.map((a) => a.name)).toEqual([
      "first",
      "second",
    ]);
  });

  test("compact without a passphrase", async () => {
    const events: BorgLogEvent[] = [];
    const result = await runBorg({
      borgPath,
      env: buildBorgEnv({ baseDir: join(dir, "borg-base") }),
      onEvent: (event) => events.push(event),
      command: buildCompactCommand(features, { repo }),
    });
    expect(result.outcome).toBe("ok");
    expect(events.some((e) => e.type === "progress_percent")).toBe(true);
  });

  test("check ok, with progress", async () => {
    const events: BorgLogEvent[] = [];
    const result = await runBorg({
      borgPath,
      env,
      onEvent: (event) => events.push(event),
      command: buildCheckCommand(features, { repo }),
    });
    expect(result.outcome).toBe("ok");
    expect(events.filter((e) => e.type === "progress_percent").length).toBeGreaterThan(0);
  });

  test("a wrong passphrase is an error whose message does not hold it", async () => {
    const wrong = "wrong-but-long-passphrase";
    const result = await runBorg({
      borgPath,
      env: buildBorgEnv({ passphrase: wrong, baseDir: join(dir, "borg-base") }),
      captureJson: true,
      command: buildListCommand(features, { repo }),
    });
    expect(result).toMatchObject({ outcome: "error", exitCode: 2 });
    expect(result.errorMessage).toContain("is incorrect");
    expect(result.errorMessage).not.toContain(wrong);
    expect(result.errorMessage).not.toContain(PASSPHRASE);
    expect(result.json).toBeUndefined();
  });

  test("break-lock ok", async () => {
    const result = await runBorg({
      borgPath,
      env,
      command: buildBreakLockCommand(features, { repo }),
    });
    expect(result.outcome).toBe("ok");
  });

  test("cancel during a create: canceled, lock released, checkpoint left", async () => {
    const controller = new AbortController();
    let progressSeen = 0;
    const result = await runBorg({
      borgPath,
      env,
      captureJson: true,
      signal: controller.signal,
      onEvent: (event) => {
        // The first archive_progress comes before any data is read: wait for real progress.
        if (event.type === "archive_progress" && (event.original_size ?? 0) > 0) {
          progressSeen++;
          controller.abort();
        }
      },
      command: buildCreateCommand(features, { repo, archive: "big", paths: [big] }),
    });
    expect(progressSeen).toBeGreaterThan(0);
    expect(result.outcome).toBe("canceled");
    expect(result.exitCode === 2 || result.signal !== null).toBe(true);

    // The lock is free again (lock-wait 0 would fail at once otherwise), and borg kept a
    // checkpoint of what it had read.
    const list = await runBorg({
      borgPath,
      env,
      captureJson: true,
      command: buildListCommand(features, { repo, considerCheckpoints: true, lockWaitSeconds: 0 }),
    });
    expect(list.outcome).toBe("ok");
    const names = BorgListResult.parse(list.json).archives.map((a) => a.name);
    expect(names).toContain("big.checkpoint");
    expect(names).not.toContain("big");
  }, 30_000);
});
