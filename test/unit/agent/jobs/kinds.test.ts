/**
 * The agent's job kinds (src/agent/jobs): every protocol kind has a module, each turns
 * its payload into the borg command src/borg builds, and each reads its result from
 * borg's captured --json output (test/fixtures/borg) — or says why it can't.
 */
import { describe, expect, test } from "bun:test";
import { AGENT_JOB_KINDS, agentJobKind } from "../../../../src/agent/jobs/index.ts";
import { buildBreakLockCommand } from "../../../../src/borg/commands/break-lock.ts";
import { buildCheckCommand } from "../../../../src/borg/commands/check.ts";
import { buildCompactCommand } from "../../../../src/borg/commands/compact.ts";
import { buildCreateCommand } from "../../../../src/borg/commands/create.ts";
import {
  buildExtractCommand,
  buildExtractToStdoutCommand,
} from "../../../../src/borg/commands/extract.ts";
import { buildInfoCommand } from "../../../../src/borg/commands/info.ts";
import { buildInitCommand } from "../../../../src/borg/commands/init.ts";
import { buildListCommand } from "../../../../src/borg/commands/list.ts";
import { buildListArchiveCommand } from "../../../../src/borg/commands/list-archive.ts";
import { buildPruneCommand } from "../../../../src/borg/commands/prune.ts";
import { featuresFor } from "../../../../src/borg/features.ts";
import type { BorgRunResult } from "../../../../src/borg/run.ts";
import { parseBorgVersion } from "../../../../src/borg/version.ts";
import {
  JOB_KINDS,
  JOB_RESULTS,
  type JobKind,
  JobPayload,
  type JobPayloadOf,
} from "../../../../src/shared/protocol/agent.ts";

const FIXTURES = `${import.meta.dir}/../../../fixtures/borg`;
const VERSIONS = ["1.2.4", "2.0.0b5"] as const;
const features = (text: string) => featuresFor(parseBorgVersion(`borg ${text}`) ?? fail(text));
function fail(text: string): never {
  throw new Error(`bad test version ${text}`);
}

const repo = "ssh://borg@box.example.com/./laptop";
const payload = <K extends JobKind>(kind: K, blocks: Record<string, unknown> = {}) =>
  JobPayload.parse({
    schema_version: 1,
    job_id: 4,
    job_kind: kind,
    repository: {
      id: 1,
      name: "laptop",
      location: repo,
      borg_version: 1,
      encryption: "repokey-blake2",
      append_only: true,
      ssh_host_key: null,
    },
    secrets: { passphrase_location: "hub" },
    ...blocks,
  }) as JobPayloadOf<K>;

const PAYLOADS = {
  "repo.init": payload("repo.init", { init: { encryption: "none" } }),
  "backup.create": payload("backup.create", {
    backup: {
      archive_name: "{hostname}-{now}",
      source_paths: ["/etc", "/home"],
      exclude_patterns: ["*.tmp"],
      compression: "zstd,3",
    },
  }),
  "repo.prune": payload("repo.prune", {
    prune: { keep_daily: 7, keep_within: "2d", dry_run: true },
  }),
  "repo.compact": payload("repo.compact"),
  "repo.check": payload("repo.check", { check: { repository_only: true, verify_data: false } }),
  "repo.break_lock": payload("repo.break_lock"),
  "archive.list": payload("archive.list"),
  "repo.info": payload("repo.info"),
  "archive.browse": payload("archive.browse", { browse: { archive: "laptop-2026" } }),
  "archive.extract": payload("archive.extract", {
    restore: {
      archive: "laptop-2026",
      paths: ["home/u/docs", "/etc/hosts"],
      destination: "/srv/restore",
      overwrite: false,
      dry_run: true,
    },
  }),
  "archive.download": payload("archive.download", {
    download: { archive: "laptop-2026", path: "home/u/notes.txt", size: 12 },
  }),
} as const;

/** A finished run as runBorg reports it, with stdout as captured. */
function run(stdout: string | undefined, outcome: BorgRunResult["outcome"] = "ok"): BorgRunResult {
  const base = { outcome, exitCode: 0, signal: null, stderrTail: [], durationMs: 1 };
  if (stdout === undefined) return { ...base, jsonError: "stdout is empty" };
  try {
    return { ...base, json: JSON.parse(stdout) };
  } catch {
    return { ...base, jsonError: "stdout is not JSON (test)" };
  }
}
const captured = (version: string, step: string) =>
  Bun.file(`${FIXTURES}/${version}/${step}.stdout`).text();

describe("the registry", () => {
  test("has a module for every protocol kind, and picks it by the payload's kind", () => {
    expect(Object.keys(AGENT_JOB_KINDS).sort()).toEqual([...JOB_KINDS].sort());
    for (const kind of JOB_KINDS) {
      const picked: unknown = agentJobKind(PAYLOADS[kind]);
      expect(picked).toBe(AGENT_JOB_KINDS[kind]);
    }
  });

  test("only the kinds whose command prints --json read it", () => {
    const readers = JOB_KINDS.filter((kind) => AGENT_JOB_KINDS[kind].readsJson);
    expect(readers).toEqual(["backup.create", "archive.list", "repo.info"]);
    for (const kind of JOB_KINDS) {
      const argv = agentJobKind(PAYLOADS[kind]).command(features("1.2.4"), PAYLOADS[kind]).argv;
      expect(argv.includes("--json")).toBe(AGENT_JOB_KINDS[kind].readsJson);
    }
  });
});

describe("commands: the payload becomes src/borg's command", () => {
  for (const version of ["1.2.4", "2.0.0b5"]) {
    test(`borg ${version}`, () => {
      const f = features(version);
      const command = (kind: keyof typeof PAYLOADS) =>
        agentJobKind(PAYLOADS[kind]).command(f, PAYLOADS[kind]);
      expect(command("repo.init")).toEqual(
        buildInitCommand(f, { repo, encryption: "none", appendOnly: true, makeParentDirs: true }),
      );
      expect(command("backup.create")).toEqual(
        buildCreateCommand(f, {
          repo,
          archive: "{hostname}-{now}",
          paths: ["/etc", "/home"],
          excludes: ["*.tmp"],
          compression: "zstd,3",
        }),
      );
      expect(command("repo.prune")).toEqual(
        buildPruneCommand(f, { repo, keepDaily: 7, keepWithin: "2d", dryRun: true, list: true }),
      );
      expect(command("repo.compact")).toEqual(buildCompactCommand(f, { repo }));
      expect(command("repo.check")).toEqual(
        buildCheckCommand(f, { repo, repositoryOnly: true, verifyData: false }),
      );
      expect(command("repo.break_lock")).toEqual(buildBreakLockCommand(f, { repo }));
      expect(command("archive.list")).toEqual(buildListCommand(f, { repo }));
      expect(command("repo.info")).toEqual(buildInfoCommand(f, { repo }));
      expect(command("archive.browse")).toEqual(
        buildListArchiveCommand(f, { repo, archive: "laptop-2026" }),
      );
      expect(command("archive.extract")).toEqual(
        buildExtractCommand(f, {
          repo,
          archive: "laptop-2026",
          paths: ["home/u/docs", "/etc/hosts"],
          dryRun: true,
          list: true,
        }),
      );
      expect(command("archive.download")).toEqual(
        buildExtractToStdoutCommand(f, { repo, archive: "laptop-2026", path: "home/u/notes.txt" }),
      );
    });
  }
});

describe("results from captured borg output", () => {
  for (const version of VERSIONS) {
    test(`backup.create, borg ${version}: the archive and its stats`, async () => {
      const kind = AGENT_JOB_KINDS["backup.create"];
      const read = kind.result(run(await captured(version, "create")), PAYLOADS["backup.create"]);
      expect(read).toEqual({
        ok: true,
        fields: {
          archive_name: "first",
          archive: {
            id: expect.stringMatching(/^[0-9a-f]{64}$/),
            name: "first",
            start: expect.any(String),
            time: expect.any(String),
          },
          stats: {
            original_size: expect.any(Number),
            compressed_size: expect.any(Number),
            deduplicated_size: expect.any(Number),
            nfiles: expect.any(Number),
          },
        },
      });
      if (read.ok) expect(read.fields.stats?.nfiles).toBeGreaterThan(0);
      // What the hub will read it with.
      if (read.ok) expect(JOB_RESULTS["backup.create"].parse({ return_code: 0, ...read.fields }));
    });

    test(`archive.list, borg ${version}: the archives, with the protocol's fields only`, async () => {
      const kind = AGENT_JOB_KINDS["archive.list"];
      const read = kind.result(run(await captured(version, "list")), PAYLOADS["archive.list"]);
      if (!read.ok) throw new Error(read.error);
      expect(read.fields.archives.map((a) => a.name).slice(0, 2)).toEqual(["first", "second"]);
      for (const archive of read.fields.archives) {
        expect(Object.keys(archive).every((k) => !["archive", "barchive", "end"].includes(k))).toBe(
          true,
        );
        expect(archive.id).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(JOB_RESULTS["archive.list"].parse({ return_code: 0, ...read.fields })).toBeDefined();
    });

    test(`repo.info, borg ${version}: readable, nothing reported`, async () => {
      const kind = AGENT_JOB_KINDS["repo.info"];
      expect(kind.result(run(await captured(version, "info")), PAYLOADS["repo.info"])).toEqual({
        ok: true,
        fields: {},
      });
    });
  }

  test("output that can't be read is an error, never an empty result", async () => {
    const unreadable = [run("Archive fingerprint: 1234"), run(undefined), run("{}")];
    for (const kind of ["backup.create", "archive.list", "repo.info"] as const) {
      for (const result of unreadable) {
        const read = agentJobKind(PAYLOADS[kind]).result(result, PAYLOADS[kind]);
        expect(read.ok).toBe(false);
      }
    }
    const wrong = AGENT_JOB_KINDS["archive.list"].result(
      run(await captured("1.2.4", "create")),
      PAYLOADS["archive.list"],
    );
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toStartWith("unexpected JSON: archives: ");
  });

  test("kinds without --json output report no fields of their own", () => {
    // These read their result in their watch (a listing upload, counts, the bytes sent).
    const watched: readonly JobKind[] = ["archive.browse", "archive.extract", "archive.download"];
    for (const kind of JOB_KINDS.filter(
      (k) => !AGENT_JOB_KINDS[k].readsJson && !watched.includes(k),
    )) {
      expect(agentJobKind(PAYLOADS[kind]).result(run(undefined), PAYLOADS[kind])).toEqual({
        ok: true,
        fields: {},
      });
    }
  });
});

describe("a plan's prune: keep_last and the plan's archive prefix reach borg", () => {
  const planPrune = (archivePrefix: string) =>
    payload("repo.prune", {
      prune: { keep_last: 2, keep_daily: 7, dry_run: false, archive_prefix: archivePrefix },
    });
  const argv = (version: string, archivePrefix: string) => {
    const job = planPrune(archivePrefix);
    return agentJobKind(job).command(features(version), job).argv;
  };

  test("borg 1.2: --glob-archives=PREFIX*; borg 2: --match-archives=sh:PREFIX*", () => {
    expect(argv("1.2.4", "plan3-")).toEqual(
      expect.arrayContaining(["--keep-last=2", "--keep-daily=7", "--glob-archives=plan3-*"]),
    );
    expect(argv("2.0.0b5", "plan3-")).toEqual(
      expect.arrayContaining(["--keep-last=2", "--match-archives=sh:plan3-*"]),
    );
  });

  test("a prefix with glob characters is refused before borg runs", () => {
    expect(() => argv("1.2.4", "plan*")).toThrow(/glob characters/);
  });
});

describe("backup.create precheck: optional sources", () => {
  const kind = AGENT_JOB_KINDS["backup.create"];
  const withSources = (source_paths: string[], optional_source_paths: string[]) =>
    payload("backup.create", {
      backup: {
        archive_name: "a",
        source_paths,
        optional_source_paths,
        exclude_patterns: [],
        compression: "lz4",
      },
    });
  const here = import.meta.dir;
  const gone = `${import.meta.dir}/no-such-source`;

  test("a missing optional source leaves borg's argv, with a warning naming it", async () => {
    const checked = await kind.precheck?.(withSources([here], [gone, FIXTURES]));
    expect(checked?.refuse).toBeUndefined();
    expect(checked?.warnings).toEqual([
      `optional source path ${JSON.stringify(gone)} does not exist on this machine; it was left out of this backup`,
    ]);
    const run = checked?.payload ?? fail("no payload");
    const argv = kind.command(features("1.2.4"), run).argv;
    expect(argv).toContain(here);
    expect(argv).toContain(FIXTURES);
    expect(argv).not.toContain(gone);
  });

  test("all present: no warning; a missing required one refuses the run", async () => {
    expect((await kind.precheck?.(withSources([here], [FIXTURES])))?.warnings).toEqual([]);
    expect((await kind.precheck?.(withSources([gone], [here])))?.refuse).toContain(
      JSON.stringify(gone),
    );
  });
});
