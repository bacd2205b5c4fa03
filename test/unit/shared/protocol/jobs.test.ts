/**
 * The job kinds on the wire (shared/protocol/jobs/*, assembled in agent.ts): one schema
 * per kind in a union keyed by job_kind, each with its own result schema, and the JSON
 * exactly as hubs and agents of earlier versions send it.
 */
import { describe, expect, test } from "bun:test";
import {
  CompleteRequest,
  JOB_KINDS,
  JOB_RESULTS,
  JobPayload,
  type JobPayloadOf,
} from "../../../../src/shared/protocol/agent.ts";
import { JOB_KIND_PROTOCOLS } from "../../../../src/shared/protocol/jobs/index.ts";

const common = {
  schema_version: 1,
  job_id: 9,
  repository: {
    id: 1,
    name: "laptop",
    location: "ssh://borg@box.example.com/./laptop",
    borg_version: 1,
    encryption: "repokey-blake2",
    append_only: false,
    ssh_host_key: null,
  },
  secrets: { passphrase_location: "hub", passphrase: "pw" },
} as const;

/** Payloads as the hub has always sent them (services/job-payload.ts before the union). */
const WIRE_PAYLOADS = {
  "repo.init": { ...common, job_kind: "repo.init", init: { encryption: "repokey-blake2" } },
  "backup.create": {
    ...common,
    job_kind: "backup.create",
    backup: {
      archive_name: "{hostname}-{now}",
      source_paths: ["/etc"],
      exclude_patterns: ["*.tmp"],
      compression: "lz4",
    },
  },
  "repo.prune": {
    ...common,
    job_kind: "repo.prune",
    prune: { keep_daily: 7, keep_within: "2d", dry_run: false },
  },
  "repo.compact": { ...common, job_kind: "repo.compact" },
  "repo.check": {
    ...common,
    job_kind: "repo.check",
    check: { repository_only: false, verify_data: true },
  },
  "repo.break_lock": { ...common, job_kind: "repo.break_lock" },
  "archive.list": { ...common, job_kind: "archive.list" },
  "repo.info": { ...common, job_kind: "repo.info" },
  "archive.browse": { ...common, job_kind: "archive.browse", browse: { archive: "a-1" } },
  "archive.extract": {
    ...common,
    job_kind: "archive.extract",
    restore: {
      archive: "a-1",
      paths: ["home/u/docs"],
      destination: "/srv/restore",
      overwrite: false,
      dry_run: false,
    },
  },
  "archive.download": {
    ...common,
    job_kind: "archive.download",
    download: { archive: "a-1", path: "home/u/a.txt", size: 3 },
  },
} as const;

describe("job payloads", () => {
  test("the kinds, in their order, come from the registry", () => {
    expect([...JOB_KINDS]).toEqual([
      "repo.init",
      "backup.create",
      "repo.prune",
      "repo.compact",
      "repo.check",
      "repo.break_lock",
      "archive.list",
      "repo.info",
      "archive.browse",
      "archive.extract",
      "archive.download",
    ]);
    expect(JOB_KIND_PROTOCOLS.map((p) => p.kind)).toEqual([...JOB_KINDS]);
    expect(Object.keys(WIRE_PAYLOADS).sort()).toEqual([...JOB_KINDS].sort());
  });

  test("every kind's payload as today's hubs send it parses to the same JSON", () => {
    for (const payload of Object.values(WIRE_PAYLOADS)) {
      const parsed: unknown = JobPayload.parse(JSON.parse(JSON.stringify(payload)));
      expect(parsed).toEqual(payload);
    }
  });

  test("a payload without its kind's block is refused when read, not when run", () => {
    const blocks = {
      "repo.init": "init",
      "backup.create": "backup",
      "repo.prune": "prune",
      "repo.check": "check",
      "archive.browse": "browse",
      "archive.extract": "restore",
      "archive.download": "download",
    } as const;
    for (const [kind, block] of Object.entries(blocks)) {
      const payload: Record<string, unknown> = { ...WIRE_PAYLOADS[kind as keyof typeof blocks] };
      expect(JobPayload.safeParse(payload).success).toBe(true);
      delete payload[block];
      expect(JobPayload.safeParse(payload).success).toBe(false);
    }
    // Another kind's block does not stand in for the kind's own.
    const crossed = { ...WIRE_PAYLOADS["repo.check"], job_kind: "repo.prune" };
    expect(JobPayload.safeParse(crossed).success).toBe(false);
    expect(JobPayload.safeParse({ ...common, job_kind: "archive.browse" }).success).toBe(false);
  });

  test("a newer peer's extra field is dropped, not refused", () => {
    const parsed = JobPayload.parse({ ...WIRE_PAYLOADS["repo.compact"], future: { x: 1 } });
    expect(parsed).toEqual(WIRE_PAYLOADS["repo.compact"]);
  });

  test("narrowing by job_kind gives the kind's block its type", () => {
    const payload = JobPayload.parse(WIRE_PAYLOADS["backup.create"]);
    if (payload.job_kind !== "backup.create") throw new Error("not a backup");
    const backup: JobPayloadOf<"backup.create">["backup"] = payload.backup;
    expect(backup.source_paths).toEqual(["/etc"]);
    // Kind-agnostic code may look at another kind's block: it is absent.
    expect(JobPayload.parse(WIRE_PAYLOADS["repo.check"]).backup).toBeUndefined();
  });
});

describe("job results", () => {
  test("each kind has a result schema; archive.list's requires the list", () => {
    expect(Object.keys(JOB_RESULTS).sort()).toEqual([...JOB_KINDS].sort());
    expect(JOB_RESULTS["archive.list"].safeParse({ return_code: 0 }).success).toBe(false);
    expect(JOB_RESULTS["archive.list"].parse({ return_code: 0, archives: [] })).toEqual({
      return_code: 0,
      archives: [],
    });
    expect(JOB_RESULTS["repo.check"].parse({ return_code: 1, warnings: ["w"] })).toEqual({
      return_code: 1,
      warnings: ["w"],
    });
  });

  test("the complete envelope takes every kind's result fields, and nothing else", () => {
    for (const { result } of JOB_KIND_PROTOCOLS) {
      for (const field of Object.keys(result.shape)) {
        expect(Object.keys(CompleteRequest.shape.result.shape)).toContain(field);
      }
    }
    const backup = {
      result: {
        return_code: 0,
        archive_name: "host-1",
        stats: { original_size: 3, compressed_size: 2, deduplicated_size: 1, nfiles: 1 },
      },
    };
    expect(CompleteRequest.parse(backup)).toEqual(backup);
    const list = { result: { return_code: 0, archives: [{ id: "aa", name: "host-1" }] } };
    expect(CompleteRequest.parse(list)).toEqual(list);
    // return_code is required; a key no kind knows (a newer agent's) is dropped, not refused.
    expect(CompleteRequest.safeParse({ result: {} }).success).toBe(false);
    expect(CompleteRequest.parse({ result: { return_code: 0, outcome: "ok" } })).toEqual({
      result: { return_code: 0 },
    });
    expect(CompleteRequest.parse({ result: { return_code: 0 }, extra: 1 })).toEqual({
      result: { return_code: 0 },
    });
  });
});
