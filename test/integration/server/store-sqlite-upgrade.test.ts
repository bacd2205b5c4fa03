/**
 * What only the SQLite store has to get right, beyond the conformance suite: upgrading a
 * database written by an older hub (0000 only) keeps every row — the 0001 migration
 * rebuilds the jobs table, which with foreign keys on would cascade into job_logs — the
 * migration runner's all-or-nothing and its refusals, rows that do not match their
 * record, and the transaction gate on the one shared connection.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../../src/server/db/sqlite/client.ts";
import { applyMigrations, embeddedMigrations } from "../../../src/server/db/sqlite/migrate.ts";
import { StoredRecordError } from "../../../src/server/db/sqlite/parse.ts";
import { openSqliteStore } from "../../../src/server/db/sqlite/store.ts";
import { Job } from "../../../src/shared/protocol/api.ts";
import { ADMIN_PASSWORD, createTestHub, RAW_JOB_PAYLOAD } from "../../helpers/hub.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-upgrade-"));
  dirs.push(dir);
  return join(dir, "hub.sqlite");
}

const T0 = 1_740_000_000_000;
const [INIT, ...LATER] = embeddedMigrations();
const ADMIN_HASH = await Bun.password.hash(ADMIN_PASSWORD);

/** A database as the hub before 0001 left it: only 0000, with rows in every table. */
function writeOldDatabase(path: string): void {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  if (!INIT) throw new Error("no migrations");
  expect(applyMigrations(sqlite, [INIT])).toEqual(["0000_init"]);
  const run = (sql: string, ...values: (string | number | null)[]) => sqlite.run(sql, values);
  run(
    "INSERT INTO users (id, username, password_hash, role) VALUES (1, 'admin', ?, 'admin')",
    ADMIN_HASH,
  );
  run(
    "INSERT INTO sessions (user_id, token_hash, token_prefix, expires_at) VALUES (1, 'sess', 's', ?)",
    T0 + 3_600_000,
  );
  for (const [id, name] of [
    [1, "db-1"],
    [2, "web-1"],
  ] as const) {
    run(
      `INSERT INTO agent_machines (id, name, agent_id, token_hash, token_prefix, hostname, os, arch,
         agent_version, protocol_version, borg_versions, capabilities, labels, status, last_seen_at)
       VALUES (?, ?, ?, ?, 'borgctl_agent_', ?, 'linux', 'x64', '0.1.0', 1,
         '[{"major":1,"version":"1.4.1","path":"/usr/bin/borg"}]', '["backup"]', '{"env":"prod"}',
         'online', ?)`,
      id,
      name,
      `agent-${name}`,
      `hash-${name}`,
      name,
      T0,
    );
  }
  run(
    `INSERT INTO repositories (id, name, agent_machine_id, location, borg_version, encryption,
       passphrase_encrypted, passphrase_location, source_paths, exclude_patterns, compression,
       archive_name, archives, archives_listed_at, last_job_id, last_result)
     VALUES (1, 'db', 1, '/srv/borg/db', 1, 'repokey-blake2', 'sealed', 'hub', '["/var/lib"]',
       '[]', 'lz4', '{hostname}-{now}', '[{"id":"abc","name":"db-2025"}]', ?, 1, 'completed')`,
    T0,
  );
  const job = (
    id: number,
    machine: number,
    status: string,
    extra: { result?: string; lease?: number; completed?: number; error?: string } = {},
  ) =>
    run(
      `INSERT INTO jobs (id, agent_machine_id, repository_id, job_kind, status, payload, result,
         error_message, return_code, triggered_by, created_at, updated_at, claimed_at, started_at,
         completed_at, lease_expires_at, nfiles)
       VALUES (?, ?, 1, 'backup.create', ?, ?, ?, ?, ?, 'user:1:admin', ?, ?, ?, ?, ?, ?, ?)`,
      id,
      machine,
      status,
      RAW_JOB_PAYLOAD,
      extra.result ?? null,
      extra.error ?? null,
      extra.completed === undefined ? null : 0,
      T0 + id,
      T0 + id,
      status === "queued" ? null : T0 + id,
      status === "queued" ? null : T0 + id,
      extra.completed ?? null,
      extra.lease ?? null,
      status === "queued" ? null : 42,
    );
  job(1, 1, "completed", {
    result:
      '{"archive_name":"db-2025","stats":{"original_size":10,"compressed_size":5,"deduplicated_size":2,"nfiles":42}}',
    completed: T0 + 100,
  });
  job(2, 1, "running", { lease: T0 + 300_000 });
  job(3, 1, "queued");
  job(4, 2, "failed", { error: "agent lost: no heartbeat or upload for 5 minutes", completed: T0 });
  job(5, 2, "queued");
  for (const [jobId, sequence] of [
    [1, 0],
    [1, 1],
    [2, 0],
    [2, 1],
    [2, 2],
  ] as const) {
    run(
      "INSERT INTO job_logs (job_id, sequence, stream, message, created_at) VALUES (?, ?, 'stderr', ?, ?)",
      jobId,
      sequence,
      `job ${jobId} line ${sequence}`,
      T0 + sequence,
    );
  }
  // The newest job is gone (its machine's other work was removed): its id must not return.
  run("DELETE FROM jobs WHERE id = 5");
  run(
    "INSERT INTO audit_events (at, actor, action, target, details) VALUES (?, 'system', 'job.queue', 'job:5', '{\"job_kind\":\"backup.create\"}')",
    T0,
  );
  run(
    "INSERT INTO enrollment_tokens (name, token_hash, token_prefix, created_by_user_id, expires_at) VALUES ('e', 'enroll', 'e', 1, ?)",
    T0 + 60_000,
  );
  sqlite.close();
}

describe("upgrading a database of an older hub", () => {
  test("0001 applies once and keeps every row; jobs become agent jobs", async () => {
    expect(LATER.map((m) => m.tag)).toContain("0001_plans_and_job_targets");
    const path = tempPath();
    writeOldDatabase(path);
    const opened = openSqliteStore(path);
    try {
      expect(opened.applied).toEqual(LATER.map((m) => m.tag));
      const { store, sqlite } = opened;
      expect(sqlite.query("PRAGMA foreign_key_check").all()).toEqual([]);
      expect(sqlite.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });

      const jobs = await store.jobs.list({ limit: 10 });
      expect(jobs.map((j) => [j.id, j.status, j.agentMachineId])).toEqual([
        [4, "failed", 2],
        [3, "queued", 1],
        [2, "running", 1],
        [1, "completed", 1],
      ]);
      for (const job of jobs) {
        expect(job).toMatchObject({
          target: "agent",
          boxId: null,
          planId: null,
          scheduledFor: null,
          endedReason: null,
          repositoryId: 1,
          triggeredBy: "user:1:admin",
          createdAt: T0 + job.id,
        });
      }
      expect(await store.jobs.byId(1)).toMatchObject({
        result: { archive_name: "db-2025", stats: { nfiles: 42 } },
        completedAt: T0 + 100,
        nfiles: 42,
      });
      expect(await store.jobs.byId(2)).toMatchObject({ leaseExpiresAt: T0 + 300_000 });
      // The rebuild did not cascade into the logs.
      expect((await store.jobs.logs(2, -1, 10)).map((l) => l.message)).toEqual([
        "job 2 line 0",
        "job 2 line 1",
        "job 2 line 2",
      ]);
      expect(await store.jobs.logs(1, -1, 10)).toHaveLength(2);

      expect(await store.machines.byId(1)).toMatchObject({
        labels: { env: "prod" },
        borgVersions: [{ major: 1, version: "1.4.1", path: "/usr/bin/borg" }],
      });
      expect(await store.repositories.archives(1)).toEqual({
        archives: [{ id: "abc", name: "db-2025" }],
        listedAt: T0,
      });
      expect(await store.repositories.sealedPassphrase(1)).toBe("sealed");
      expect((await store.audit.list({ limit: 10 }))[0]?.details).toEqual({
        job_kind: "backup.create",
      });
      expect((await store.enrollment.byHash("enroll"))?.createdByUserId).toBe(1);
      expect(await store.sessions.match("sess", T0)).toMatchObject({ userId: 1 });
      expect(await store.plans.list()).toEqual([]);

      // The deleted job's id is not handed out again.
      const queued = await store.jobs.insertQueued(
        {
          agentMachineId: 1,
          repositoryId: 1,
          jobKind: "repo.check",
          triggeredBy: "test",
          exclusive: false,
          payloadFor: () => JSON.parse(RAW_JOB_PAYLOAD),
        },
        T0,
      );
      expect(queued?.id).toBe(6);

      // The rebuilt table's foreign keys work both ways.
      expect(() =>
        sqlite.run(
          "INSERT INTO jobs (target, job_kind, status, payload, triggered_by) VALUES ('agent', 'repo.check', 'queued', '{}', 't')",
        ),
      ).toThrow(/CHECK constraint failed/);
      expect(() =>
        sqlite.run(
          "INSERT INTO jobs (agent_machine_id, job_kind, status, payload, triggered_by) VALUES (99, 'repo.check', 'queued', '{}', 't')",
        ),
      ).toThrow(/FOREIGN KEY constraint failed/);
      sqlite.run("DELETE FROM jobs WHERE id = 1");
      expect(await store.jobs.logs(1, -1, 10)).toEqual([]);
    } finally {
      await opened.close();
    }
    // Opened again: nothing more to apply.
    const again = openSqliteStore(path);
    expect(again.applied).toEqual([]);
    await again.close();
  });

  test("the upgraded hub answers the same jobs API", async () => {
    const path = tempPath();
    writeOldDatabase(path);
    const hub = createTestHub({ path });
    try {
      const token = await hub.login();
      const response = await hub.request("GET", "/api/jobs/1", { token });
      expect(response.status).toBe(200);
      expect(Job.parse(response.body)).toEqual({
        id: 1,
        type: "backup.create",
        status: "completed",
        repository_id: 1,
        agent_machine_id: 1,
        plan_id: null,
        scheduled_for: null,
        progress: {
          progress_percent: null,
          current_file: null,
          original_size: null,
          compressed_size: null,
          deduplicated_size: null,
          nfiles: 42,
          backup_speed: null,
          estimated_time_remaining: null,
          phase: null,
          updated_at: null,
        },
        result: {
          archive_name: "db-2025",
          stats: { original_size: 10, compressed_size: 5, deduplicated_size: 2, nfiles: 42 },
        },
        error_message: null,
        ended_reason: null,
        return_code: 0,
        created_at: new Date(T0 + 1).toISOString(),
        claimed_at: new Date(T0 + 1).toISOString(),
        started_at: new Date(T0 + 1).toISOString(),
        completed_at: new Date(T0 + 100).toISOString(),
        triggered_by: "user:1:admin",
      });
      const logs = await hub.request("GET", "/api/jobs/2/logs", { token });
      expect((logs.body as { logs: unknown[] }).logs).toHaveLength(3);
    } finally {
      hub.close();
    }
  });
});

describe("the migration runner", () => {
  test("a migration that fails leaves the database as it was", () => {
    const sqlite = new Database(":memory:", { strict: true });
    sqlite.run("PRAGMA foreign_keys = ON");
    if (!INIT) throw new Error("no migrations");
    const broken = { tag: "0001_broken", hash: "x", statements: ["CREATE TABLE t (a)", "NOT SQL"] };
    expect(() => applyMigrations(sqlite, [INIT, broken])).toThrow();
    expect(
      sqlite.query("SELECT name FROM sqlite_master WHERE name IN ('t', 'users')").all(),
    ).toEqual([]);
    expect(applyMigrations(sqlite, [INIT])).toEqual(["0000_init"]);
    expect(sqlite.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
  });

  test("a migration that leaves a dangling reference is rolled back", () => {
    const sqlite = new Database(":memory:", { strict: true });
    sqlite.run("PRAGMA foreign_keys = ON");
    if (!INIT) throw new Error("no migrations");
    expect(applyMigrations(sqlite, [INIT])).toEqual(["0000_init"]);
    const dangling = {
      tag: "0001_dangling",
      hash: "y",
      statements: [
        "INSERT INTO sessions (user_id, token_hash, token_prefix, expires_at) VALUES (99, 'h', 'p', 0)",
      ],
    };
    expect(() => applyMigrations(sqlite, [INIT, dangling])).toThrow(/broken foreign key/);
    expect(sqlite.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 0 });
    expect(sqlite.query("SELECT tag FROM borgctl_migrations").all()).toEqual([
      { tag: "0000_init" },
    ]);
    expect(sqlite.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
  });

  test("a database whose applied migration differs from the binary's is refused", () => {
    const path = tempPath();
    openDatabase(path).close();
    const sqlite = new Database(path, { strict: true });
    sqlite.run("UPDATE borgctl_migrations SET hash = 'changed' WHERE tag = '0000_init'");
    sqlite.close();
    expect(() => openSqliteStore(path)).toThrow(/0000_init differs .* refusing to start/);
  });
});

describe("reading rows back", () => {
  test("a row that does not match its record fails, naming the table, row and field", async () => {
    const opened = openSqliteStore(":memory:");
    try {
      const { store, sqlite } = opened;
      const machine = await store.machines.insert({
        name: "m1",
        agentId: "a1",
        tokenHash: "h1",
        tokenPrefix: "p",
        hostname: "m1",
        os: "linux",
        arch: "x64",
        agentVersion: "0.1.0",
        protocolVersion: 1,
        borgVersions: [],
        capabilities: [],
        sshPublicKey: null,
        status: "pending",
      });
      sqlite.run('UPDATE agent_machines SET labels = \'["not", "a", "map"]\' WHERE id = ?', [
        machine.id,
      ]);
      const failure = store.machines.byId(machine.id);
      await expect(failure).rejects.toBeInstanceOf(StoredRecordError);
      await expect(store.machines.byTokenHash("h1")).rejects.toThrow(
        `stored agent_machines row ${machine.id} does not match its record: labels:`,
      );
      sqlite.run("UPDATE agent_machines SET labels = '{}', status = 'asleep' WHERE id = ?", [
        machine.id,
      ]);
      await expect(store.machines.list()).rejects.toThrow(/agent_machines row \d+ .*status:/);
    } finally {
      await opened.close();
    }
  });
});

describe("the transaction gate on one connection", () => {
  test("inside a transaction the outer store refuses, naming the mistake", async () => {
    const { store, close } = openSqliteStore(":memory:");
    try {
      await expect(
        store.transaction(async () => {
          await store.audit.append({ actor: "system", action: "wrong store" }, 0);
        }),
      ).rejects.toThrow(/use the transaction's store \(tx\)/);
      expect(await store.audit.list({ limit: 10 })).toEqual([]);
    } finally {
      await close();
    }
  });

  test("a tx kept past its transaction, or the outer tx during a nested one, refuses", async () => {
    const { store, close } = openSqliteStore(":memory:");
    try {
      let leaked: typeof store | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
        await tx.transaction(async () => {
          await expect(tx.audit.append({ actor: "system", action: "outer" }, 0)).rejects.toThrow(
            /nested transaction is running/,
          );
        });
      });
      await expect(leaked?.audit.list({ limit: 1 })).rejects.toThrow(/already ended/);
    } finally {
      await close();
    }
  });

  test("calls from elsewhere wait for the transaction and then run, in order", async () => {
    const { store, close } = openSqliteStore(":memory:");
    try {
      const order: string[] = [];
      const release = Promise.withResolvers<void>();
      const inside = store.transaction(async (tx) => {
        await tx.audit.append({ actor: "system", action: "in tx" }, 1);
        await release.promise;
        order.push("tx done");
      });
      const outside = store.audit
        .append({ actor: "system", action: "outside" }, 2)
        .then(() => order.push("outside done"));
      await Bun.sleep(5);
      expect(order).toEqual([]);
      release.resolve();
      await Promise.all([inside, outside]);
      expect(order).toEqual(["tx done", "outside done"]);
      expect((await store.audit.list({ limit: 10 })).map((e) => e.action)).toEqual([
        "outside",
        "in tx",
      ]);
    } finally {
      await close();
    }
  });
});
