/**
 * The Store conformance suite: what every implementation of the hub's Store
 * (src/server/db/store.ts) must do, written against the interface only. A test file per
 * implementation calls `storeConformance(name, factory)`; today SQLite in memory and on
 * a file (test/integration/server/store-sqlite.test.ts), later PostgreSQL.
 *
 * Covered: records read back as written (JSON columns included), guarded transitions
 * that change nothing from a wrong state, claim races (one winner among many, across
 * connections too), log dedup by sequence, newest-first paging of jobs and audit, the
 * lease-expiry helpers, one-time enrollment under races, transactions (commit, rollback,
 * savepoints, atomic visibility), and migrations (applied once, idempotent on re-open,
 * safe when several openers race on an empty database).
 *
 * Races use Promise.all over the async API; with `connect`, the racers are spread over
 * independent connections, so the database itself decides the winner.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { MachineRow, NewMachine } from "../../src/server/db/records.ts";
import type { Store } from "../../src/server/db/store.ts";
import {
  JOB_PAYLOAD_SCHEMA_VERSION,
  type JobKind,
  type JobPayload,
} from "../../src/shared/protocol/agent.ts";
import { notificationConformance } from "./store-notifications.ts";

export interface TestStore {
  store: Store;
  close(): Promise<void>;
}

export interface StoreFactory {
  /** A store on a new, empty, migrated database of its own. */
  fresh(): Promise<TestStore>;
  /**
   * Another, independent connection to the same database as `of` (a second process's
   * view). Omitted where there can be none (an in-memory database).
   */
  connect?(of: TestStore): Promise<TestStore>;
  migrations?: MigrationHarness;
}

export interface MigrationHarness {
  /** Every migration the implementation carries, in order. */
  tags: readonly string[];
  /** A place where no database exists yet (opening creates it). */
  emptyLocation(): Promise<string>;
  /** Opens (creating and migrating) the database at `location`. */
  open(location: string): Promise<TestStore & { applied: string[] }>;
  /**
   * Opens `count` stores on `location` as concurrently as the implementation allows
   * (separate processes for SQLite) and closes them; each one's applied tags.
   */
  openRacing(location: string, count: number): Promise<string[][]>;
}

/** A fixed, arbitrary epoch-ms base: the store reads no clock, every time is passed in. */
const T0 = 1_750_000_000_000;
const LEASE = 5 * 60_000;

export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    const opened: TestStore[] = [];
    afterEach(async () => {
      for (const handle of opened.splice(0).reverse()) await handle.close();
    });
    const fresh = async (): Promise<Store> => {
      const handle = await factory.fresh();
      opened.push(handle);
      return handle.store;
    };
    /** `count` stores on one database: the first fresh, the others connected to it. */
    const connections = async (count: number): Promise<Store[]> => {
      const first = await factory.fresh();
      opened.push(first);
      const stores = [first.store];
      for (let i = 1; i < count && factory.connect; i++) {
        const other = await factory.connect(first);
        opened.push(other);
        stores.push(other.store);
      }
      return stores;
    };
    const crossConnection = factory.connect ? test : test.skip;

    describe("records", () => {
      test("users: insert, look up, refuse a taken name, update, count, remove", async () => {
        const store = await fresh();
        const admin = await store.users.insert({
          username: "ada",
          passwordHash: "h1",
          role: "admin",
        });
        expect(admin).toMatchObject({ username: "ada", passwordHash: "h1", role: "admin" });
        if (!admin) throw new Error("unreachable");
        expect(
          await store.users.insert({ username: "ada", passwordHash: "h2", role: "viewer" }),
        ).toBeUndefined();
        const bob = await store.users.insert({
          username: "bob",
          passwordHash: "h3",
          role: "viewer",
        });
        expect(await store.users.byUsername("ada")).toEqual(admin);
        expect(await store.users.byId(admin.id)).toEqual(admin);
        expect((await store.users.list()).map((u) => u.username)).toEqual(["ada", "bob"]);
        expect(await store.users.count()).toBe(2);
        expect(await store.users.countAdmins()).toBe(1);
        expect(await store.users.update(bob?.id ?? 0, { role: "admin" }, T0)).toBe(true);
        expect(await store.users.countAdmins()).toBe(2);
        expect(await store.users.update(999_999, { role: "admin" }, T0)).toBe(false);
        expect(await store.users.remove(bob?.id ?? 0)).toBe(true);
        expect(await store.users.remove(bob?.id ?? 0)).toBe(false);
        expect(await store.users.byUsername("bob")).toBeUndefined();
      });

      test("sessions and API tokens match only while live, with the right role", async () => {
        const store = await fresh();
        const user = await addUser(store, "operator");
        await store.sessions.insert({
          userId: user,
          tokenHash: "s-live",
          tokenPrefix: "s",
          expiresAt: T0 + 1000,
        });
        await store.sessions.insert({
          userId: user,
          tokenHash: "s-old",
          tokenPrefix: "s",
          expiresAt: T0 - 1,
        });
        expect(await store.sessions.match("s-live", T0)).toMatchObject({
          userId: user,
          userRole: "operator",
          role: "operator",
        });
        expect(await store.sessions.match("s-old", T0)).toBeUndefined();
        expect(await store.sessions.match("s-live", T0 + 1000)).toBeUndefined();
        expect(await store.sessions.removeExpired(T0)).toBe(1);

        const token = await store.apiTokens.insert({
          userId: user,
          name: "ci",
          role: "viewer",
          tokenHash: "t-1",
          tokenPrefix: "t",
          expiresAt: null,
        });
        expect(token).toMatchObject({
          name: "ci",
          role: "viewer",
          expiresAt: null,
          lastUsedAt: null,
        });
        expect(await store.apiTokens.match("t-1", T0)).toMatchObject({
          credentialId: token.id,
          userRole: "operator",
          role: "viewer",
        });
        const [listed] = await store.apiTokens.listForUser(user, T0);
        expect(listed?.lastUsedAt).toBe(T0);
        const other = await addUser(store, "viewer", "someone-else");
        expect(await store.apiTokens.revoke(token.id, other, T0)).toBe(false);
        expect(await store.apiTokens.revoke(token.id, user, T0)).toBe(true);
        expect(await store.apiTokens.revoke(token.id, undefined, T0)).toBe(false);
        expect(await store.apiTokens.match("t-1", T0)).toBeUndefined();
        expect(await store.apiTokens.listForUser(user, T0)).toEqual([]);
      });

      test("machines: JSON columns read back as written; a patch keeps what it leaves out", async () => {
        const store = await fresh();
        const machine = await store.machines.insert(newMachine("m1"));
        expect(machine).toMatchObject({
          name: "m1",
          borgVersions: [{ major: 1, version: "1.4.1", path: "/usr/bin/borg" }],
          capabilities: ["backup", "prune"],
          labels: {},
          status: "pending",
          lastSeenAt: null,
        });
        expect(await store.machines.byTokenHash("hash-m1")).toEqual(machine);
        expect(await store.machines.byTokenHash("nope")).toBeUndefined();
        const updated = await store.machines.update(
          machine.id,
          { labels: { env: "prod", "rack/unit": "7 ü" }, lastError: null },
          T0,
        );
        expect(updated).toEqual({
          ...machine,
          labels: { env: "prod", "rack/unit": "7 ü" },
          updatedAt: T0,
        });
        expect(await store.machines.update(999_999, { name: "x" }, T0)).toBeUndefined();
        expect((await store.machines.list()).map((m) => m.id)).toEqual([machine.id]);
      });

      test("machines: removal is refused while repositories use the machine", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        await queue(store, machine, repo);
        expect(await store.machines.removeUnreferenced(machine)).toEqual({
          outcome: "referenced",
          repositories: 1,
        });
        expect(await store.machines.byId(machine)).toBeDefined();
        await store.jobs.cancelQueued((await store.jobs.list({ limit: 1 }))[0]?.id ?? 0, T0);
        expect(await store.repositories.removeIfIdle(repo)).toBe(true);
        expect(await store.machines.removeUnreferenced(machine)).toEqual({ outcome: "removed" });
        expect(await store.machines.removeUnreferenced(machine)).toEqual({ outcome: "not_found" });
        expect(await store.jobs.list({ limit: 10 })).toEqual([]);
      });

      test("lent box keys: attached to a job, due once the job ends or when orphaned", async () => {
        const store = await fresh();
        const box = await store.boxes.insert(newBox("lb"));
        if (!box) throw new Error("insert failed");
        const machine = await addMachine(store, "lender");
        const repo = await addRepository(store, machine, "lent-repo");
        const job = await queue(store, machine, repo, "repo.check");
        const attached = await store.lentBoxKeys.insert(
          { boxId: box.id, repoName: "laptop", tag: "job-a" },
          T0,
        );
        expect(attached).toMatchObject({ boxId: box.id, repoName: "laptop", jobId: null });
        await store.lentBoxKeys.attachJob(attached.id, job);
        const orphan = await store.lentBoxKeys.insert(
          { boxId: box.id, repoName: "laptop", tag: "job-b" },
          T0 + 10,
        );
        expect(await store.lentBoxKeys.forJob(job)).toEqual([{ ...attached, jobId: job }]);
        // The job is queued and the orphan young: nothing is due.
        expect(await store.lentBoxKeys.due(T0 + 10, 10)).toEqual([]);
        expect((await store.lentBoxKeys.due(T0 + 11, 10)).map((k) => k.id)).toEqual([orphan.id]);
        await store.jobs.cancelQueued(job, T0 + 20);
        expect((await store.lentBoxKeys.due(T0 + 11, 10)).map((k) => k.id)).toEqual([
          attached.id,
          orphan.id,
        ]);
        expect((await store.lentBoxKeys.due(T0 + 11, 1)).map((k) => k.id)).toEqual([attached.id]);
        await store.lentBoxKeys.remove(attached.id);
        await store.lentBoxKeys.remove(orphan.id);
        expect(await store.lentBoxKeys.due(T0 + 100, 10)).toEqual([]);
        expect(await store.lentBoxKeys.forJob(job)).toEqual([]);
      });

      test("boxes: no token in rows, names unique, refresh facts kept whole, removal guarded", async () => {
        const store = await fresh();
        const box = await store.boxes.insert(newBox("b1"));
        if (!box) throw new Error("insert failed");
        expect(box).not.toHaveProperty("tokenEncrypted");
        expect(box).toMatchObject({
          name: "b1",
          sshPort: 22,
          status: "online",
          sshHostKeys: ["ssh-ed25519 AAAA"],
          repos: [],
          freeBytes: 5_000_000_000_000,
        });
        expect(await store.boxes.sealedToken(box.id)).toBe("sealed-b1");
        expect(await store.boxes.sealedToken(999_999)).toBeUndefined();
        expect(await store.boxes.insert(newBox("b1"))).toBeUndefined();
        const other = await store.boxes.insert(newBox("b2"));
        expect(await store.boxes.update(other?.id ?? 0, { name: "b1" }, T0)).toBe("name_taken");
        expect(await store.boxes.update(box.id, { tokenEncrypted: "sealed-new" }, T0)).toEqual({
          ...box,
          updatedAt: T0,
        });
        expect(await store.boxes.sealedToken(box.id)).toBe("sealed-new");
        expect(await store.boxes.update(999_999, { name: "x" }, T0)).toBeUndefined();
        const repos = [
          {
            name: "laptop",
            path: "/srv/repos/laptop",
            size_bytes: 1234,
            initialized: true,
            modified_at: "2026-01-01T00:00:00Z",
            last_write_at: null,
            registered: true,
            append_only: true,
          },
        ];
        const refreshed = await store.boxes.recordRefresh(
          box.id,
          {
            status: "online",
            lastError: null,
            lastSeenAt: T0 + 1,
            repos,
            repoCount: 1,
            reposListedAt: T0 + 1,
          },
          T0 + 1,
        );
        expect(refreshed).toMatchObject({ repos, repoCount: 1, lastSeenAt: T0 + 1 });
        // Offline keeps the last facts.
        expect(
          await store.boxes.recordRefresh(
            box.id,
            { status: "offline", lastError: "refused" },
            T0 + 2,
          ),
        ).toMatchObject({ status: "offline", lastError: "refused", repos, lastSeenAt: T0 + 1 });
        expect(
          await store.boxes.recordRefresh(999_999, { status: "offline", lastError: "x" }, T0),
        ).toBeUndefined();

        const machine = await addMachine(store, "m1");
        const repo = await store.repositories.insert({
          ...newRepository(machine, "r1", null),
          boxId: box.id,
        });
        expect(repo?.boxId).toBe(box.id);
        expect(await store.boxes.removeUnreferenced(box.id)).toEqual({
          outcome: "referenced",
          repositories: 1,
        });
        expect(await store.repositories.removeIfIdle(repo?.id ?? 0)).toBe(true);
        expect(await store.boxes.removeUnreferenced(box.id)).toEqual({ outcome: "removed" });
        expect(await store.boxes.removeUnreferenced(box.id)).toEqual({ outcome: "not_found" });
        expect((await store.boxes.list()).map((b) => b.name)).toEqual(["b2"]);
      });

      test("repositories: no passphrase in rows, names unique, archives kept whole", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const sealed = await store.repositories.insert(newRepository(machine, "r1", "ciphertext"));
        const open = await store.repositories.insert(newRepository(machine, "r2", null));
        if (!sealed || !open) throw new Error("insert failed");
        expect(sealed).not.toHaveProperty("passphraseEncrypted");
        expect(sealed).toMatchObject({
          hasPassphrase: true,
          sourcePaths: ["/etc", "/home"],
          // Not given: none.
          optionalSourcePaths: [],
          excludePatterns: ["sh:**/.cache"],
          borgVersion: 1,
          appendOnly: false,
        });
        expect(open.hasPassphrase).toBe(false);
        expect(await store.repositories.sealedPassphrase(sealed.id)).toBe("ciphertext");
        expect(await store.repositories.sealedPassphrase(open.id)).toBeNull();
        expect(await store.repositories.sealedPassphrase(999_999)).toBeUndefined();
        expect(await store.repositories.insert(newRepository(machine, "r1", null))).toBeUndefined();
        expect(await store.repositories.update(open.id, { name: "r1" }, T0)).toBe("name_taken");
        expect(await store.repositories.update(open.id, { sourcePaths: ["/srv"] }, T0)).toEqual({
          ...open,
          sourcePaths: ["/srv"],
          updatedAt: T0,
        });
        expect(await store.repositories.update(999_999, { name: "x" }, T0)).toBeUndefined();
        const optional = await store.repositories.insert({
          ...newRepository(machine, "r3", null),
          optionalSourcePaths: ["/media/usb", "/opt/ü"],
        });
        expect(optional?.optionalSourcePaths).toEqual(["/media/usb", "/opt/ü"]);
        if (!optional) throw new Error("insert failed");
        expect(
          await store.repositories.update(optional.id, { optionalSourcePaths: [] }, T0),
        ).toEqual({ ...optional, optionalSourcePaths: [], updatedAt: T0 });

        expect(await store.repositories.archives(sealed.id)).toEqual({
          archives: [],
          listedAt: null,
        });
        const archives = [
          { id: "a".repeat(64), name: "host-2025-01-01", time: "2025-01-01T00:00:00" },
          { id: "b".repeat(64), name: "host-2025-01-02", comment: "ü" },
        ];
        await store.repositories.setArchives(sealed.id, archives, T0);
        expect(await store.repositories.archives(sealed.id)).toEqual({ archives, listedAt: T0 });
        expect(await store.repositories.archives(999_999)).toBeUndefined();

        // A backup's archive joins a known list once; a list never read stays unknown.
        const added = { id: "c".repeat(64), name: "host-2025-01-03", start: "2025-01-03T00:00:00" };
        expect(await store.repositories.addArchive(sealed.id, added, T0 + 5)).toBe(true);
        expect(await store.repositories.addArchive(sealed.id, added, T0 + 6)).toBe(false);
        expect(await store.repositories.archives(sealed.id)).toEqual({
          archives: [...archives, added],
          listedAt: T0,
        });
        expect(await store.repositories.addArchive(open.id, added, T0)).toBe(false);
        expect(await store.repositories.archives(open.id)).toEqual({
          archives: [],
          listedAt: null,
        });
        expect(await store.repositories.addArchive(999_999, added, T0)).toBe(false);

        await store.repositories.recordOutcome(
          sealed.id,
          { lastResult: "completed", lastJobId: 7, lastBackupAt: T0 },
          T0 + 1,
        );
        expect(await store.repositories.byId(sealed.id)).toMatchObject({
          lastResult: "completed",
          lastJobId: 7,
          lastBackupAt: T0,
        });
      });

      test("repositories: freshness fields, failure counting, guarded overdue transitions", async () => {
        const stores = await connections(3);
        const store = stores[0] as Store;
        const machine = await addMachine(store, "m1");
        const repo = await store.repositories.insert(newRepository(machine, "r1", null));
        if (!repo) throw new Error("insert failed");
        expect(repo).toMatchObject({
          expectedIntervalSeconds: null,
          overdueFactor: 1.5,
          failuresSinceSuccess: 0,
          overdueSince: null,
        });
        expect(
          await store.repositories.update(
            repo.id,
            { expectedIntervalSeconds: 3600, overdueFactor: 2.25 },
            T0,
          ),
        ).toMatchObject({ expectedIntervalSeconds: 3600, overdueFactor: 2.25 });

        const outcome = (job: number, extra: object) =>
          store.repositories.recordOutcome(
            repo.id,
            { lastResult: "failed", lastJobId: job, ...extra },
            T0,
          );
        await outcome(1, { failed: true });
        await outcome(2, { failed: true });
        await outcome(3, { lastResult: "canceled" });
        expect(await store.repositories.byId(repo.id)).toMatchObject({
          failuresSinceSuccess: 2,
          lastResult: "canceled",
          lastBackupAt: null,
        });

        // Racing sweeps on separate connections: exactly one marks it overdue.
        const marks = await Promise.all(
          stores.map((s) => s.repositories.markOverdue(repo.id, T0 + 10, null, T0 + 20)),
        );
        expect(marks.filter((m) => m !== undefined)).toHaveLength(1);
        expect(marks.find((m) => m)?.overdueSince).toBe(T0 + 10);
        // Already overdue: a later sweep's mark changes nothing.
        expect(await store.repositories.markOverdue(repo.id, T0 + 99, null, T0)).toBeUndefined();
        expect((await store.repositories.byId(repo.id))?.overdueSince).toBe(T0 + 10);

        // Clearing needs the stored since; a success clears it and resets the count.
        expect(await store.repositories.clearOverdue(repo.id, T0 + 11, T0)).toBeUndefined();
        await store.repositories.recordOutcome(
          repo.id,
          { lastResult: "completed", lastJobId: 4, lastBackupAt: T0 + 30 },
          T0 + 30,
        );
        expect(await store.repositories.byId(repo.id)).toMatchObject({
          failuresSinceSuccess: 0,
          overdueSince: null,
          lastBackupAt: T0 + 30,
        });
        // A sweep that evaluated the old last_backup_at loses to the success.
        expect(await store.repositories.markOverdue(repo.id, T0 + 40, null, T0)).toBeUndefined();
        const marked = await store.repositories.markOverdue(repo.id, T0 + 40, T0 + 30, T0 + 41);
        expect(marked?.overdueSince).toBe(T0 + 40);
        expect(
          (await store.repositories.clearOverdue(repo.id, T0 + 40, T0 + 42))?.overdueSince,
        ).toBe(null);
      });

      test("metrics: job counts by kind and status; each repository's newest archive size", async () => {
        const store = await fresh();
        expect(await store.metrics.jobCounts()).toEqual([]);
        expect(await store.metrics.latestBackupSizes()).toEqual([]);
        const machine = await addMachine(store, "m1");
        const r1 = await addRepository(store, machine, "r1");
        const r2 = await addRepository(store, machine, "r2");
        const stats = (original_size: number) => ({
          stats: { original_size, compressed_size: 1, deduplicated_size: 1, nfiles: 1 },
        });
        const finish = async (repo: number, status: "completed" | "failed", size?: number) => {
          const job = await queue(store, machine, repo);
          await store.jobs.claim(job, machine, T0, T0 + LEASE);
          await store.jobs.finish(
            job,
            machine,
            { status, result: size === undefined ? null : stats(size) },
            T0,
          );
        };
        await finish(r1, "completed", 100);
        await finish(r1, "completed", 250);
        await finish(r1, "failed");
        await finish(r2, "completed", 7);
        await queue(store, machine, r2);
        await queue(store, machine, r2, "repo.check");
        const counts = (await store.metrics.jobCounts()).sort((a, b) =>
          `${a.jobKind}/${a.status}`.localeCompare(`${b.jobKind}/${b.status}`),
        );
        expect(counts).toEqual([
          { jobKind: "backup.create", status: "completed", count: 3 },
          { jobKind: "backup.create", status: "failed", count: 1 },
          { jobKind: "backup.create", status: "queued", count: 1 },
          { jobKind: "repo.check", status: "queued", count: 1 },
        ]);
        const sizes = (await store.metrics.latestBackupSizes()).sort(
          (a, b) => a.repositoryId - b.repositoryId,
        );
        expect(sizes).toEqual([
          { repositoryId: r1, originalBytes: 250 },
          { repositoryId: r2, originalBytes: 7 },
        ]);
      });

      test("repositories: removeIfIdle refuses while a job of it is active", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const job = await queue(store, machine, repo);
        expect(await store.repositories.removeIfIdle(repo)).toBe(false);
        await store.jobs.claim(job, machine, T0, T0 + LEASE);
        expect(await store.repositories.removeIfIdle(repo)).toBe(false);
        await store.jobs.finish(job, machine, { status: "completed" }, T0);
        expect(await store.repositories.removeIfIdle(repo)).toBe(true);
        expect(await store.repositories.byId(repo)).toBeUndefined();
        // The finished job stays, no longer tied to a repository.
        expect((await store.jobs.byId(job))?.repositoryId).toBeNull();
      });

      test("plans: insert, read, list by repository, update, remove; they go with their repository", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repoA = await addRepository(store, machine, "a");
        const repoB = await addRepository(store, machine, "b");
        const plan = await store.plans.insert(
          {
            repositoryId: repoA,
            name: "nightly",
            schedule: "0 2 * * *",
            timezone: "Europe/Berlin",
            enabled: true,
            retention: { keep_daily: 7, keep_weekly: 4, keep_within: "2d" },
            pruneAfterBackup: true,
            compactEveryDays: 7,
            checkEveryDays: null,
            checkVerifyData: false,
            missedRun: "run_once",
            randomDelaySeconds: 300,
          },
          T0,
        );
        expect(plan).toMatchObject({
          repositoryId: repoA,
          retention: { keep_daily: 7, keep_weekly: 4, keep_within: "2d" },
          checkEveryDays: null,
          lastRunAt: null,
          lastJobId: null,
          createdAt: T0,
          updatedAt: T0,
        });
        const other = await store.plans.insert(
          { ...newPlan(repoB), retention: null, missedRun: "skip" },
          T0,
        );
        expect(other.retention).toBeNull();
        expect(await store.plans.byId(plan.id)).toEqual(plan);
        expect((await store.plans.list()).map((p) => p.id)).toEqual([plan.id, other.id]);
        expect((await store.plans.list({ repositoryId: repoB })).map((p) => p.id)).toEqual([
          other.id,
        ]);
        const job = await queue(store, machine, repoA, "backup.create", {
          planId: plan.id,
          scheduledFor: T0 + 60_000,
        });
        expect(await store.jobs.byId(job)).toMatchObject({
          planId: plan.id,
          scheduledFor: T0 + 60_000,
        });
        expect(
          await store.plans.update(
            plan.id,
            { enabled: false, lastRunAt: T0 + 60_000, lastJobId: job },
            T0 + 5,
          ),
        ).toEqual({
          ...plan,
          enabled: false,
          lastRunAt: T0 + 60_000,
          lastJobId: job,
          updatedAt: T0 + 5,
        });
        expect(await store.plans.update(999_999, { enabled: false }, T0)).toBeUndefined();
        expect(await store.plans.remove(plan.id)).toBe(true);
        expect(await store.plans.remove(plan.id)).toBe(false);
        // The job outlives its plan.
        expect((await store.jobs.byId(job))?.planId).toBeNull();
        expect(await store.repositories.removeIfIdle(repoB)).toBe(true);
        expect(await store.plans.byId(other.id)).toBeUndefined();
      });

      test("a queued job: its payload names its id; defaults of the new columns", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const job = await store.jobs.insertQueued(newJob(machine, repo), T0);
        expect(job).toMatchObject({
          target: "agent",
          agentMachineId: machine,
          boxId: null,
          repositoryId: repo,
          planId: null,
          scheduledFor: null,
          jobKind: "backup.create",
          status: "queued",
          endedReason: null,
          result: null,
          createdAt: T0,
          leaseExpiresAt: null,
        });
        expect(job?.payload.job_id).toBe(job?.id ?? -1);
        expect(await store.jobs.latestForRepository(repo)).toEqual(job);
        expect(await store.jobs.byId(999_999)).toBeUndefined();
      });

      test("an exclusive kind is refused while one of the repository is active, others are not", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const first = await queue(store, machine, repo);
        expect(await store.jobs.insertQueued(newJob(machine, repo), T0)).toBeUndefined();
        expect(
          await store.jobs.insertQueued(newJob(machine, repo, "repo.check"), T0),
        ).toBeDefined();
        // Racing exclusive inserts: none gets past the one already active.
        const racing = await Promise.all(
          Array.from({ length: 10 }, () => store.jobs.insertQueued(newJob(machine, repo), T0)),
        );
        expect(racing.filter(Boolean)).toEqual([]);
        await store.jobs.cancelQueued(first, T0);
        const again = await Promise.all(
          Array.from({ length: 10 }, () => store.jobs.insertQueued(newJob(machine, repo), T0)),
        );
        expect(again.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("claim races", () => {
      test("many concurrent claimers of one queued job: exactly one wins", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const job = await queue(store, machine, repo);
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, i) => store.jobs.claim(job, machine, T0 + i, T0 + LEASE)),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(winners[0]).toMatchObject({ id: job, status: "claimed" });
        expect(await store.jobs.byId(job)).toEqual(winners[0]);
        expect(await store.jobs.queuedFor(machine, 10)).toEqual([]);
      });

      test("each of several jobs claimed by many at once has exactly one winner", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push(await queue(store, machine, repo, "repo.check"));
        const results = await Promise.all(
          ids.flatMap((id) =>
            Array.from({ length: 8 }, () =>
              store.jobs.claim(id, machine, T0, T0 + LEASE).then((row) => ({ id, row })),
            ),
          ),
        );
        for (const id of ids) {
          expect(results.filter((r) => r.id === id && r.row !== undefined)).toHaveLength(1);
        }
      });

      test("another agent cannot claim a job, and its claim changes nothing", async () => {
        const store = await fresh();
        const mine = await addMachine(store, "m1");
        const theirs = await addMachine(store, "m2");
        const repo = await addRepository(store, mine, "r1");
        const job = await queue(store, mine, repo);
        const before = await store.jobs.byId(job);
        expect(await store.jobs.claim(job, theirs, T0, T0 + LEASE)).toBeUndefined();
        expect(await store.jobs.byId(job)).toEqual(before);
        expect(await store.jobs.queuedFor(theirs, 10)).toEqual([]);
        expect((await store.jobs.queuedFor(mine, 10)).map((j) => j.id)).toEqual([job]);
      });

      crossConnection(
        "claimers on separate connections to one database: exactly one wins",
        async () => {
          const stores = await connections(4);
          const [store] = stores;
          if (!store) throw new Error("no store");
          const machine = await addMachine(store, "m1");
          const repo = await addRepository(store, machine, "r1");
          for (let round = 0; round < 5; round++) {
            const job = await queue(store, machine, repo, "repo.check");
            const results = await Promise.all(
              Array.from({ length: 24 }, (_, i) =>
                (stores[i % stores.length] ?? store).jobs.claim(job, machine, T0, T0 + LEASE),
              ),
            );
            expect(results.filter((r) => r !== undefined)).toHaveLength(1);
            for (const other of stores)
              expect((await other.jobs.byId(job))?.status).toBe("claimed");
          }
        },
      );

      test("plans: concurrent claims of one due time (across connections where there are any): one wins", async () => {
        const stores = await connections(3);
        const [store] = stores;
        if (!store) throw new Error("no store");
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const plan = await store.plans.insert(newPlan(repo), T0);
        const due = T0 + 60_000;
        for (const at of [due, due + 60_000]) {
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (stores[i % stores.length] ?? store).plans.claimDueRun(plan.id, at, at + i),
            ),
          );
          const winners = results.filter((r) => r !== undefined);
          expect(winners).toHaveLength(1);
          expect(winners[0]).toMatchObject({ id: plan.id, lastRunAt: at });
        }
        // A due time already acted on, or an earlier one, is not claimed again.
        expect(await store.plans.claimDueRun(plan.id, due + 60_000, T0)).toBeUndefined();
        expect(await store.plans.claimDueRun(plan.id, due, T0)).toBeUndefined();
        // A disabled plan claims nothing.
        await store.plans.update(plan.id, { enabled: false }, T0);
        expect(await store.plans.claimDueRun(plan.id, due + 120_000, T0)).toBeUndefined();
        expect((await store.plans.byId(plan.id))?.lastRunAt).toBe(due + 60_000);
      });

      test("plans: a compact/check period is claimed once (across connections where there are any)", async () => {
        const stores = await connections(3);
        const [store] = stores;
        if (!store) throw new Error("no store");
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const plan = await store.plans.insert(newPlan(repo), T0);
        const week = 7 * 24 * 3_600_000;
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (stores[i % stores.length] ?? store).plans.claimMaintenance(
              plan.id,
              "compact",
              T0,
              week,
            ),
          ),
        );
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        expect((await store.plans.byId(plan.id))?.lastCompactAt).toBe(T0);
        // Inside the period: refused; at its end: claimed. The check's period is its own.
        expect(
          await store.plans.claimMaintenance(plan.id, "compact", T0 + week - 1, week),
        ).toBeUndefined();
        expect(await store.plans.claimMaintenance(plan.id, "check", T0 + 1, week)).toMatchObject({
          lastCompactAt: T0,
          lastCheckAt: T0 + 1,
        });
        expect(
          await store.plans.claimMaintenance(plan.id, "compact", T0 + week, week),
        ).toMatchObject({
          lastCompactAt: T0 + week,
        });
        expect(await store.plans.claimMaintenance(999_999, "check", T0, week)).toBeUndefined();
      });

      test("queuedFor lists the agent's queued jobs oldest first, up to the limit", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const a = await queue(store, machine, repo, "repo.check");
        const b = await queue(store, machine, repo, "repo.check");
        const c = await queue(store, machine, repo, "repo.check");
        const d = await queue(store, machine, repo, "repo.check");
        await store.jobs.claim(b, machine, T0, T0 + LEASE);
        expect((await store.jobs.queuedFor(machine, 2)).map((j) => j.id)).toEqual([a, c]);
        expect((await store.jobs.queuedFor(machine, 10)).map((j) => j.id)).toEqual([a, c, d]);
      });
    });

    describe("guarded transitions", () => {
      test("start, progress, lease renewal and finish need a held job of this agent", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const other = await addMachine(store, "m2");
        const repo = await addRepository(store, machine, "r1");
        const job = await queue(store, machine, repo);
        const queued = await store.jobs.byId(job);
        expect(await store.jobs.start(job, machine, T0, T0 + LEASE)).toBeUndefined();
        expect(await store.jobs.renewLease(job, machine, T0, T0 + LEASE)).toBeUndefined();
        expect(
          await store.jobs.recordProgress(job, machine, { nfiles: 3 }, T0, T0 + LEASE),
        ).toBeUndefined();
        expect(await store.jobs.finish(job, machine, { status: "completed" }, T0)).toBeUndefined();
        expect(await store.jobs.requestCancel(job, T0)).toBeUndefined();
        expect(await store.jobs.byId(job)).toEqual(queued);

        await store.jobs.claim(job, machine, T0, T0 + LEASE);
        expect(await store.jobs.start(job, other, T0, T0 + LEASE)).toBeUndefined();
        expect(await store.jobs.finish(job, other, { status: "failed" }, T0)).toBeUndefined();
        expect(await store.jobs.cancelQueued(job, T0)).toBeUndefined();
        expect((await store.jobs.byId(job))?.status).toBe("claimed");
      });

      test("start is idempotent and sets started_at once; a cancel that came first stays", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const job = await queue(store, machine, repo);
        await store.jobs.claim(job, machine, T0, T0 + LEASE);
        const started = await store.jobs.start(job, machine, T0 + 1, T0 + 1 + LEASE);
        expect(started).toMatchObject({ status: "running", startedAt: T0 + 1 });
        const again = await store.jobs.start(job, machine, T0 + 2, T0 + 2 + LEASE);
        expect(again).toMatchObject({
          status: "running",
          startedAt: T0 + 1,
          leaseExpiresAt: T0 + 2 + LEASE,
        });

        const second = await queue(store, machine, repo, "repo.check");
        await store.jobs.claim(second, machine, T0, T0 + LEASE);
        expect(await store.jobs.requestCancel(second, T0 + 1)).toMatchObject({
          status: "cancel_requested",
          cancelRequestedAt: T0 + 1,
        });
        expect(await store.jobs.start(second, machine, T0 + 2, T0 + LEASE)).toMatchObject({
          status: "cancel_requested",
          startedAt: T0 + 2,
        });
      });

      test("progress: undefined keeps a value, null clears it; the lease is renewed", async () => {
        const store = await fresh();
        const { machine, job } = await runningJob(store);
        await store.jobs.recordProgress(
          job,
          machine,
          { progressPercent: 12.5, currentFile: "/etc/hosts", nfiles: 3 },
          T0 + 10,
          T0 + 10 + LEASE,
        );
        const row = await store.jobs.recordProgress(
          job,
          machine,
          { currentFile: null, nfiles: 4 },
          T0 + 20,
          T0 + 20 + LEASE,
        );
        expect(row).toMatchObject({
          progressPercent: 12.5,
          currentFile: null,
          nfiles: 4,
          progressUpdatedAt: T0 + 20,
          leaseExpiresAt: T0 + 20 + LEASE,
        });
      });

      test("finish is terminal once: result, reason and return code stored, lease cleared", async () => {
        const store = await fresh();
        const { machine, job } = await runningJob(store);
        const result = {
          archive_name: "host-2025",
          stats: { original_size: 10, compressed_size: 5, deduplicated_size: 2, nfiles: 1 },
          warnings: ["file changed while we backed it up"],
        };
        const finished = await store.jobs.finish(
          job,
          machine,
          { status: "completed_with_warnings", result, returnCode: 1, endedReason: "completed" },
          T0 + 100,
        );
        expect(finished).toMatchObject({
          status: "completed_with_warnings",
          result,
          returnCode: 1,
          endedReason: "completed",
          errorMessage: null,
          completedAt: T0 + 100,
          leaseExpiresAt: null,
        });
        expect(
          await store.jobs.finish(
            job,
            machine,
            { status: "failed", errorMessage: "late" },
            T0 + 200,
          ),
        ).toBeUndefined();
        expect(await store.jobs.byId(job)).toEqual(finished);

        const { job: plain } = await runningJob(store, machine);
        expect(
          await store.jobs.finish(plain, machine, { status: "failed", errorMessage: "x" }, T0),
        ).toMatchObject({ status: "failed", errorMessage: "x", endedReason: null, result: null });
      });

      test("two racing terminal reports: exactly one lands", async () => {
        const store = await fresh();
        const { machine, job } = await runningJob(store);
        const results = await Promise.all([
          store.jobs.finish(job, machine, { status: "completed", returnCode: 0 }, T0 + 1),
          store.jobs.finish(job, machine, { status: "failed", errorMessage: "boom" }, T0 + 2),
          store.jobs.failExpired(T0 + LEASE * 10, "agent lost"),
        ]);
        const landed = [results[0], results[1], ...results[2]].filter(Boolean);
        expect(landed).toHaveLength(1);
      });

      test("cancel: queued → canceled at once; held → cancel_requested; finished → nothing", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const queued = await queue(store, machine, repo, "repo.check");
        expect(await store.jobs.requestCancel(queued, T0)).toBeUndefined();
        expect(await store.jobs.cancelQueued(queued, T0, "canceled")).toMatchObject({
          status: "canceled",
          cancelRequestedAt: T0,
          completedAt: T0,
          endedReason: "canceled",
        });
        expect(await store.jobs.cancelQueued(queued, T0 + 1)).toBeUndefined();
        expect(await store.jobs.requestCancel(queued, T0 + 1)).toBeUndefined();

        const { job: running } = await runningJob(store, machine);
        expect(await store.jobs.cancelQueued(running, T0)).toBeUndefined();
        expect((await store.jobs.requestCancel(running, T0))?.status).toBe("cancel_requested");
        expect(await store.jobs.requestCancel(running, T0 + 1)).toBeUndefined();
        expect(await store.machines.cancelRequestedJobIds(machine)).toEqual([running]);
      });

      test("bulk re-verification: credentials by id, and the agents with queued jobs", async () => {
        const store = await fresh();
        const m1 = await store.machines.insert(newMachine("m1"));
        const m2 = await addMachine(store, "m2");
        const m3 = await addMachine(store, "m3");
        const found = await store.machines.credentials([m2, m1.id, 999_999]);
        const credential = (m: MachineRow) => ({
          id: m.id,
          agentId: m.agentId,
          name: m.name,
          status: m.status,
          capabilities: m.capabilities,
          tokenHash: `hash-${m.name}`,
        });
        expect(found.sort((a, b) => a.id - b.id)).toEqual([
          credential(m1),
          credential((await store.machines.byId(m2)) as MachineRow),
        ]);
        expect(await store.machines.credentials([])).toEqual([]);

        expect(await store.jobs.agentsWithJobsIn("queued")).toEqual([]);
        const r3 = await addRepository(store, m3, "r3");
        const r1 = await addRepository(store, m1.id, "r1");
        await queue(store, m3, r3, "repo.check");
        await queue(store, m3, r3);
        const claimed = await queue(store, m1.id, r1, "repo.check");
        expect(await store.jobs.agentsWithJobsIn("queued")).toEqual([m1.id, m3]);
        await store.jobs.claim(claimed, m1.id, T0, T0 + LEASE);
        expect(await store.jobs.agentsWithJobsIn("queued")).toEqual([m3]);
        expect(await store.jobs.agentsWithJobsIn("cancel_requested")).toEqual([]);
        await store.jobs.requestCancel(claimed, T0);
        expect(await store.jobs.agentsWithJobsIn("cancel_requested")).toEqual([m1.id]);
      });

      test("machine status changes only from the statuses named", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const before = await store.machines.byId(machine);
        expect(
          await store.machines.transition(machine, ["online"], "disabled", T0),
        ).toBeUndefined();
        expect(await store.machines.byId(machine)).toEqual(before);
        const racing = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.machines.transition(machine, ["pending"], "disabled", T0),
          ),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect((await store.machines.byId(machine))?.status).toBe("disabled");
      });

      test("a heartbeat brings a machine online only while it may act", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const beat = await store.machines.recordHeartbeat(
          machine,
          { hostname: "m1.example", capabilities: ["backup"] },
          T0,
        );
        expect(beat?.previousStatus).toBe("pending");
        expect(beat?.machine).toMatchObject({
          status: "online",
          lastSeenAt: T0,
          hostname: "m1.example",
          capabilities: ["backup"],
          borgVersions: [{ major: 1, version: "1.4.1", path: "/usr/bin/borg" }],
        });
        await store.machines.transition(machine, ["online"], "disabled", T0 + 1);
        const disabled = await store.machines.byId(machine);
        expect(
          await store.machines.recordHeartbeat(machine, { hostname: "x" }, T0 + 2),
        ).toBeUndefined();
        expect(await store.machines.byId(machine)).toEqual(disabled);
        expect(await store.machines.recordHeartbeat(999_999, {}, T0)).toBeUndefined();
      });

      test("stale online machines go offline; others stay", async () => {
        const store = await fresh();
        const stale = await addMachine(store, "stale");
        const fresh1 = await addMachine(store, "fresh");
        const pending = await addMachine(store, "pending");
        await store.machines.recordHeartbeat(stale, {}, T0);
        await store.machines.recordHeartbeat(fresh1, {}, T0 + 60_000);
        const marked = await store.machines.markStaleOffline(T0 + 30_000, T0 + 90_000);
        expect(marked.map((m) => [m.id, m.status])).toEqual([[stale, "offline"]]);
        expect((await store.machines.byId(fresh1))?.status).toBe("online");
        expect((await store.machines.byId(pending))?.status).toBe("pending");
        expect(await store.machines.markStaleOffline(T0 + 30_000, T0 + 90_000)).toEqual([]);
      });

      test("touchOnline: last_seen_at moves forward for online machines only", async () => {
        const store = await fresh();
        const online = await addMachine(store, "touch-online");
        const ahead = await addMachine(store, "touch-ahead");
        const disabled = await addMachine(store, "touch-disabled");
        await store.machines.recordHeartbeat(online, {}, T0);
        await store.machines.recordHeartbeat(ahead, {}, T0 + 500);
        await store.machines.recordHeartbeat(disabled, {}, T0);
        await store.machines.transition(disabled, ["online"], "disabled", T0 + 1);
        const before = await store.machines.byId(online);
        expect(await store.machines.touchOnline([], T0 + 100)).toEqual([]);
        const touched = await store.machines.touchOnline(
          [online, ahead, disabled, 999_999],
          T0 + 100,
        );
        expect(touched.sort((a, b) => a - b)).toEqual([online, ahead].sort((a, b) => a - b));
        expect(await store.machines.byId(online)).toEqual({
          ...(before as NonNullable<typeof before>),
          lastSeenAt: T0 + 100,
        });
        expect((await store.machines.byId(ahead))?.lastSeenAt).toBe(T0 + 500); // never back
        expect((await store.machines.byId(disabled))?.lastSeenAt).toBe(T0);
        expect((await store.machines.byId(disabled))?.status).toBe("disabled");
      });

      test("stale machines in batches: at most `limit` per call, lowest ids first", async () => {
        const store = await fresh();
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) {
          const id = await addMachine(store, `batch-${i}`);
          await store.machines.recordHeartbeat(id, {}, T0);
          ids.push(id);
        }
        const first = await store.machines.markStaleOffline(T0 + 1, T0 + 2, 2);
        expect(first.map((m) => m.id).sort((a, b) => a - b)).toEqual(ids.slice(0, 2));
        const rest = await store.machines.markStaleOffline(T0 + 1, T0 + 2, 10);
        expect(rest.map((m) => m.id).sort((a, b) => a - b)).toEqual(ids.slice(2));
        expect(rest.every((m) => m.status === "offline")).toBe(true);
        expect(await store.machines.markStaleOffline(T0 + 1, T0 + 2, 10)).toEqual([]);
      });
    });

    describe("job logs", () => {
      test("deduplicated by sequence; read in sequence order after a given one", async () => {
        const store = await fresh();
        const { job } = await runningJob(store);
        const line = (sequence: number, message = `line ${sequence}`) => ({
          sequence,
          stream: "stderr",
          message,
          createdAt: T0 + sequence,
        });
        expect(await store.jobs.insertLogs(job, [line(2), line(0), line(1)])).toHaveLength(3);
        expect(await store.jobs.insertLogs(job, [line(1, "again"), line(2)])).toEqual([]);
        const added = await store.jobs.insertLogs(job, [line(2), line(5), line(3)]);
        expect(added.map((l) => l.sequence).sort()).toEqual([3, 5]);
        expect(await store.jobs.insertLogs(job, [])).toEqual([]);

        const all = await store.jobs.logs(job, -1, 100);
        expect(all.map((l) => l.sequence)).toEqual([0, 1, 2, 3, 5]);
        expect(all[1]).toEqual(line(1));
        expect((await store.jobs.logs(job, 1, 2)).map((l) => l.sequence)).toEqual([2, 3]);
        expect(await store.jobs.logs(job, 5, 10)).toEqual([]);
        // The tail: the last lines, still in sequence order.
        expect((await store.jobs.logTail(job, 2)).map((l) => l.sequence)).toEqual([3, 5]);
        expect(await store.jobs.logTail(job, 100)).toEqual(all);

        const { job: other } = await runningJob(store);
        expect(await store.jobs.insertLogs(other, [line(0, "other job")])).toHaveLength(1);
        expect((await store.jobs.logs(job, -1, 100)).map((l) => l.message)).not.toContain(
          "other job",
        );
      });

      test("the same batch uploaded many times at once is stored once", async () => {
        const store = await fresh();
        const { job } = await runningJob(store);
        const batch = Array.from({ length: 20 }, (_, sequence) => ({
          sequence,
          stream: "stdout",
          message: `m${sequence}`,
          createdAt: T0,
        }));
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.jobs.insertLogs(job, batch)),
        );
        expect(results.reduce((n, r) => n + r.length, 0)).toBe(20);
        expect(await store.jobs.logs(job, -1, 100)).toHaveLength(20);
      });
    });

    describe("archive listings", () => {
      const entry = (parent: string, name: string, type: "file" | "dir" | "link" = "file") => ({
        parent,
        name,
        type,
        size: type === "dir" ? 0 : name.length,
        mtime: type === "dir" ? null : "2026-01-02T03:04:05.000Z",
        mode: type === "dir" ? null : "-rw-r--r--",
      });
      const setUp = async () => {
        const store = await fresh();
        const machine = await addMachine(store, "lister");
        const repositoryId = await addRepository(store, machine, "listed");
        return { store, repositoryId };
      };

      test("built from chunks (real entries replace placeholders, repeats change nothing), published whole", async () => {
        const { store, repositoryId } = await setUp();
        const listings = store.archiveListings;
        const listing = await listings.begin({ repositoryId, archive: "a-1", jobId: 41 }, T0);
        expect(listing).toMatchObject({ status: "building", entryCount: 0, archive: "a-1" });
        expect(await listings.begin({ repositoryId, archive: "a-1", jobId: 41 }, T0 + 1)).toEqual(
          listing,
        );
        const placeholder = { ...entry("", "home", "dir") };
        const realHome = {
          ...entry("", "home", "dir"),
          mtime: "2026-01-01T00:00:00.000Z",
          mode: "drwxr-xr-x",
        };
        expect(
          await listings.addEntries(
            listing.id,
            [entry("home", "b.txt"), entry("home", "a.txt")],
            [placeholder],
          ),
        ).toBe(true);
        // The real directory arrives later and replaces the placeholder; a re-sent chunk is harmless.
        expect(await listings.addEntries(listing.id, [realHome, entry("home", "a.txt")], [])).toBe(
          true,
        );
        expect(await listings.addEntries(listing.id, [], [placeholder])).toBe(true);
        expect(await listings.entry(listing.id, "", "home")).toEqual(realHome);
        // Not served before it is published.
        expect((await listings.forArchive(repositoryId, "a-1"))?.status).toBe("building");

        const published = await listings.publish(listing.id, T0 + 5);
        expect(published).toMatchObject({ status: "ready", entryCount: 3, lastUsedAt: T0 + 5 });
        expect(await listings.publish(listing.id, T0 + 6)).toBeUndefined();
        expect(await listings.addEntries(listing.id, [entry("home", "late")], [])).toBe(false);
        expect(await listings.entry(listing.id, "home", "late")).toBeUndefined();
        expect(await listings.byJob(41)).toEqual(published);
      });

      test("one level: directories first, then bytewise by name, limited; search by LIKE", async () => {
        const { store, repositoryId } = await setUp();
        const listings = store.archiveListings;
        const { id } = await listings.begin({ repositoryId, archive: "a-1", jobId: 7 }, T0);
        await listings.addEntries(
          id,
          [
            entry("d", "b.pdf"),
            entry("d", "Zeta", "dir"),
            entry("d", "a_1.PDF"),
            entry("d", "alpha", "dir"),
            entry("d", "Apdf"),
            entry("d/alpha", "deep.pdf"),
            entry("d", "link", "link"),
          ],
          [entry("", "d", "dir")],
        );
        await listings.publish(id, T0);
        expect((await listings.children(id, "d", 100)).map((e) => e.name)).toEqual([
          "Zeta",
          "alpha",
          "Apdf",
          "a_1.PDF",
          "b.pdf",
          "link",
        ]);
        expect((await listings.children(id, "d", 2)).map((e) => e.name)).toEqual(["Zeta", "alpha"]);
        expect(await listings.children(id, "nowhere", 10)).toEqual([]);
        expect((await listings.children(id, "", 10)).map((e) => e.name)).toEqual(["d"]);

        const names = async (like: string, onPath = false) =>
          (await listings.search(id, like, { onPath, limit: 100 })).map(
            (e) => `${e.parent}/${e.name}`,
          );
        // Case-insensitive; "_" escaped matches only itself.
        // By directory, then name.
        expect(await names("%.pdf")).toEqual(["d/a_1.PDF", "d/b.pdf", "d/alpha/deep.pdf"]);
        expect(await names("a\\_%")).toEqual(["d/a_1.PDF"]);
        expect(await names("d/alpha/%", true)).toEqual(["d/alpha/deep.pdf"]);
        expect(await listings.search(id, "%", { onPath: false, limit: 2 })).toHaveLength(2);
      });

      test("a new listing of an archive replaces the old on publish; remove and evict by size, least recently used first", async () => {
        const { store, repositoryId } = await setUp();
        const listings = store.archiveListings;
        const build = async (archive: string, jobId: number, count: number, at: number) => {
          const { id } = await listings.begin({ repositoryId, archive, jobId }, at);
          await listings.addEntries(
            id,
            Array.from({ length: count }, (_, i) => entry("", `f${i}`)),
            [],
          );
          await listings.publish(id, at);
          return id;
        };
        const first = await build("a-1", 1, 2, T0);
        const again = await build("a-1", 2, 3, T0 + 1);
        expect(await listings.byJob(1)).toBeUndefined();
        expect(await listings.forArchive(repositoryId, "a-1")).toMatchObject({
          id: again,
          entryCount: 3,
        });
        expect(await listings.children(first, "", 10)).toEqual([]);

        const older = await build("a-2", 3, 4, T0 + 2);
        const newest = await build("a-3", 4, 5, T0 + 3);
        await listings.touch(again, T0 + 10); // a-1 browsed last: a-2 is the least recently used
        expect(await listings.evict(8, newest)).toBe(1);
        expect(await listings.forArchive(repositoryId, "a-2")).toBeUndefined();
        expect(await listings.children(older, "", 10)).toEqual([]);
        // `keep` survives even alone over the budget.
        expect(await listings.evict(0, newest)).toBe(1);
        expect(await listings.forArchive(repositoryId, "a-3")).toMatchObject({ id: newest });
        await listings.remove(newest);
        expect(await listings.forArchive(repositoryId, "a-3")).toBeUndefined();
        // A building listing is never evicted.
        const building = await listings.begin({ repositoryId, archive: "a-4", jobId: 5 }, T0);
        expect(await listings.evict(0)).toBe(0);
        expect(await listings.byJob(5)).toEqual(building);
      });
    });

    describe("pagination", () => {
      test("jobs: newest first, paged by `before`, no gaps and no repeats", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const ids: number[] = [];
        for (let i = 0; i < 23; i++) ids.push(await queue(store, machine, repo, "repo.check"));
        const pages = await pagesOf((before) => store.jobs.list({ limit: 5, before }));
        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flat()).toEqual([...ids].reverse());
      });

      test("jobs: filters page the same way", async () => {
        const store = await fresh();
        const m1 = await addMachine(store, "m1");
        const m2 = await addMachine(store, "m2");
        const r1 = await addRepository(store, m1, "r1");
        const r2 = await addRepository(store, m2, "r2");
        const byRepo: Record<number, number[]> = { [r1]: [], [r2]: [] };
        for (let i = 0; i < 14; i++) {
          const [machine, repo] = i % 3 === 0 ? [m2, r2] : [m1, r1];
          byRepo[repo]?.push(await queue(store, machine, repo, "repo.check"));
        }
        const canceled = byRepo[r1]?.filter((_, i) => i % 2 === 0) ?? [];
        for (const id of canceled) await store.jobs.cancelQueued(id, T0);

        const r1Pages = await pagesOf((before) =>
          store.jobs.list({ repositoryId: r1, limit: 3, before }),
        );
        expect(r1Pages.flat()).toEqual([...(byRepo[r1] ?? [])].reverse());
        const m2Pages = await pagesOf((before) =>
          store.jobs.list({ agentMachineId: m2, limit: 2, before }),
        );
        expect(m2Pages.flat()).toEqual([...(byRepo[r2] ?? [])].reverse());
        const canceledPages = await pagesOf((before) =>
          store.jobs.list({ status: "canceled", limit: 2, before }),
        );
        expect(canceledPages.flat()).toEqual([...canceled].reverse());
      });

      test("audit: newest first, paged by `before`, filtered by action; details kept whole", async () => {
        const store = await fresh();
        for (let i = 0; i < 17; i++) {
          await store.audit.append(
            {
              actor: "system",
              action: i % 4 === 0 ? "job.queue" : "agent.status",
              target: `job:${i}`,
              details: { i, nested: { list: [1, "two", null], ok: true } },
            },
            T0 + i,
          );
        }
        await store.audit.append({ actor: "user:1:ada", action: "login" }, T0 + 100);
        const pages = await pagesOf((before) => store.audit.list({ limit: 4, before }));
        const all = pages.flat();
        expect(all).toHaveLength(18);
        expect(new Set(all).size).toBe(18);
        expect([...all].sort((a, b) => b - a)).toEqual(all);

        const events = await store.audit.list({ limit: 100 });
        expect(events[0]).toMatchObject({
          action: "login",
          target: null,
          ip: null,
          details: null,
          at: T0 + 100,
        });
        expect(events.at(-1)).toMatchObject({
          target: "job:0",
          details: { i: 0, nested: { list: [1, "two", null], ok: true } },
        });
        const queued = await pagesOf((before) =>
          store.audit.list({ limit: 2, before, action: "job.queue" }),
        );
        expect(queued.flat()).toHaveLength(5);
      });

      test("audit: appendMany writes every event in order, and nothing for none", async () => {
        const store = await fresh();
        await store.audit.appendMany([], T0);
        expect(await store.audit.list({ limit: 10 })).toEqual([]);
        await store.audit.appendMany(
          [1, 2, 3].map((i) => ({
            actor: "system",
            action: "agent.status",
            target: `machine:${i}`,
            details: { to: "offline" },
          })),
          T0 + 5,
        );
        const events = await store.audit.list({ limit: 10 });
        expect(events.map((e) => e.target)).toEqual(["machine:3", "machine:2", "machine:1"]);
        expect(events[0]).toMatchObject({ at: T0 + 5, ip: null, details: { to: "offline" } });
      });
    });

    describe("leases", () => {
      test("claimed and never started, lease expired: requeued; not yet expired: kept", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const expired = await queue(store, machine, repo, "repo.check");
        const atLimit = await queue(store, machine, repo, "repo.check");
        await store.jobs.claim(expired, machine, T0, T0 + 10);
        await store.jobs.claim(atLimit, machine, T0, T0 + 20);
        const { job: running } = await runningJob(store, machine, T0 + 10);

        const requeued = await store.jobs.requeueExpired(T0 + 20);
        expect(requeued.map((j) => j.id)).toEqual([expired]);
        expect(requeued[0]).toMatchObject({
          status: "queued",
          claimedAt: null,
          leaseExpiresAt: null,
          endedReason: null,
          updatedAt: T0 + 20,
        });
        // A lease that ends exactly now has not expired yet.
        expect((await store.jobs.byId(atLimit))?.status).toBe("claimed");
        expect((await store.jobs.byId(running))?.status).toBe("running");
        // Requeued work can be claimed again, by its agent.
        expect(await store.jobs.claim(expired, machine, T0 + 30, T0 + 30 + LEASE)).toBeDefined();
      });

      test("cancel requested before borg started, lease expired: canceled", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const job = await queue(store, machine, repo);
        await store.jobs.claim(job, machine, T0, T0 + 10);
        await store.jobs.requestCancel(job, T0 + 1);
        expect(await store.jobs.requeueExpired(T0 + 50)).toEqual([]);
        const canceled = await store.jobs.cancelExpiredUnstarted(T0 + 50, "agent lost: gone");
        expect(canceled.map((j) => j.id)).toEqual([job]);
        expect(canceled[0]).toMatchObject({
          status: "canceled",
          errorMessage: "agent lost: gone",
          endedReason: "canceled",
          completedAt: T0 + 50,
          leaseExpiresAt: null,
        });
        expect(await store.jobs.cancelExpiredUnstarted(T0 + 60, "again")).toEqual([]);
      });

      test("any other held job whose lease expired fails as agent lost", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const { job: running } = await runningJob(store, machine, T0, T0 + 10);
        const { job: canceling } = await runningJob(store, machine, T0, T0 + 10);
        await store.jobs.requestCancel(canceling, T0 + 1);
        const { job: alive } = await runningJob(store, machine, T0, T0 + 1000);
        const queued = await queue(store, machine, repo, "repo.check");
        const { job: done } = await runningJob(store, machine, T0, T0 + 10);
        await store.jobs.finish(done, machine, { status: "completed" }, T0 + 5);

        const failed = await store.jobs.failExpired(T0 + 100, "agent lost: no heartbeat");
        expect(failed.map((j) => j.id).sort((a, b) => a - b)).toEqual([running, canceling]);
        for (const row of failed) {
          expect(row).toMatchObject({
            status: "failed",
            errorMessage: "agent lost: no heartbeat",
            endedReason: "agent_lost",
            completedAt: T0 + 100,
            leaseExpiresAt: null,
          });
        }
        expect((await store.jobs.byId(alive))?.status).toBe("running");
        expect((await store.jobs.byId(queued))?.status).toBe("queued");
        expect((await store.jobs.byId(done))?.status).toBe("completed");
        // A lost job's agent learns it lost: its uploads no longer match.
        expect(await store.jobs.renewLease(running, machine, T0 + 101, T0 + LEASE)).toBeUndefined();
      });

      test("extendHeldLeases moves only held leases that end sooner", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const { job: soon } = await runningJob(store, machine, T0, T0 + 10);
        const { job: later } = await runningJob(store, machine, T0, T0 + 10_000);
        const { job: done } = await runningJob(store, machine, T0, T0 + 10);
        await store.jobs.finish(done, machine, { status: "completed" }, T0 + 1);
        expect(await store.jobs.extendHeldLeases(T0 + 100, T0 + 5000)).toBe(1);
        expect((await store.jobs.byId(soon))?.leaseExpiresAt).toBe(T0 + 5000);
        expect((await store.jobs.byId(later))?.leaseExpiresAt).toBe(T0 + 10_000);
        expect((await store.jobs.byId(done))?.leaseExpiresAt).toBeNull();
      });

      test("a heartbeat renews only its own machine's held jobs", async () => {
        const store = await fresh();
        const mine = await addMachine(store, "m1");
        const theirs = await addMachine(store, "m2");
        const { job: a } = await runningJob(store, mine, T0, T0 + 10);
        const { job: b } = await runningJob(store, theirs, T0, T0 + 10);
        const { job: done } = await runningJob(store, mine, T0, T0 + 10);
        await store.jobs.finish(done, mine, { status: "completed" }, T0 + 1);
        const renewed = await store.machines.renewLeases(mine, [a, b, done, 999_999], T0 + 500);
        expect(renewed).toEqual([a]);
        expect((await store.jobs.byId(a))?.leaseExpiresAt).toBe(T0 + 500);
        expect((await store.jobs.byId(b))?.leaseExpiresAt).toBe(T0 + 10);
        expect(await store.machines.renewLeases(mine, [], T0)).toEqual([]);
      });

      test("cancelQueuedJobs cancels only the machine's queued jobs", async () => {
        const store = await fresh();
        const mine = await addMachine(store, "m1");
        const theirs = await addMachine(store, "m2");
        const myRepo = await addRepository(store, mine, "r1");
        const theirRepo = await addRepository(store, theirs, "r2");
        const q1 = await queue(store, mine, myRepo, "repo.check");
        const q2 = await queue(store, mine, myRepo, "repo.check");
        const { job: running } = await runningJob(store, mine);
        const other = await queue(store, theirs, theirRepo, "repo.check");
        const ids = await store.machines.cancelQueuedJobs(mine, "agent revoked", T0, "canceled");
        expect(ids.sort((x, y) => x - y)).toEqual([q1, q2]);
        expect(await store.jobs.byId(q1)).toMatchObject({
          status: "canceled",
          errorMessage: "agent revoked",
          endedReason: "canceled",
          completedAt: T0,
        });
        expect((await store.jobs.byId(running))?.status).toBe("running");
        expect((await store.jobs.byId(other))?.status).toBe("queued");
      });
    });

    describe("enrollment", () => {
      test("a token is redeemed once; used, revoked and expired ones are refused", async () => {
        const store = await fresh();
        const user = await addUser(store, "admin");
        const token = await addEnrollment(store, user, "e1");
        const redeemed = await store.enrollment.redeem("e1", T0, newMachine("m1"));
        expect(redeemed?.tokenId).toBe(token);
        expect(await store.enrollment.byId(token)).toMatchObject({
          usedAt: T0,
          usedByAgentMachineId: redeemed?.machineId,
        });
        expect((await store.machines.byId(redeemed?.machineId ?? 0))?.name).toBe("m1");
        expect(await store.enrollment.redeem("e1", T0, newMachine("m2"))).toBeUndefined();

        const revoked = await addEnrollment(store, user, "e2");
        expect(await store.enrollment.revoke(revoked, T0)).toBe(true);
        expect(await store.enrollment.revoke(revoked, T0)).toBe(false);
        expect(await store.enrollment.redeem("e2", T0, newMachine("m3"))).toBeUndefined();

        await addEnrollment(store, user, "e3", T0 + 10);
        expect(await store.enrollment.redeem("e3", T0 + 10, newMachine("m4"))).toBeUndefined();
        expect(await store.enrollment.redeem("unknown", T0, newMachine("m5"))).toBeUndefined();
        expect((await store.machines.list()).map((m) => m.name)).toEqual(["m1"]);
        expect((await store.enrollment.byHash("e2"))?.revokedAt).toBe(T0);
        expect((await store.enrollment.list()).map((t) => t.id)).toHaveLength(3);
      });

      test("many registrations racing on one token: exactly one machine", async () => {
        const store = await fresh();
        const user = await addUser(store, "admin");
        await addEnrollment(store, user, "race");
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.enrollment.redeem("race", T0, newMachine(`racer-${i}`)),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.machines.list()).toHaveLength(1);
      });

      crossConnection(
        "registrations racing on one token over separate connections: one machine",
        async () => {
          const stores = await connections(3);
          const [store] = stores;
          if (!store) throw new Error("no store");
          const user = await addUser(store, "admin");
          await addEnrollment(store, user, "race");
          const results = await Promise.all(
            Array.from({ length: 18 }, (_, i) =>
              (stores[i % stores.length] ?? store).enrollment.redeem(
                "race",
                T0,
                newMachine(`racer-${i}`),
              ),
            ),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
          for (const other of stores) expect(await other.machines.list()).toHaveLength(1);
        },
      );

      test("a registration whose machine cannot be created leaves the token usable", async () => {
        const store = await fresh();
        const user = await addUser(store, "admin");
        const token = await addEnrollment(store, user, "e1");
        await store.machines.insert(newMachine("taken"));
        // Same agent id and credential hash as an existing machine: the insert fails.
        await expect(store.enrollment.redeem("e1", T0, newMachine("taken"))).rejects.toThrow();
        expect((await store.enrollment.byId(token))?.usedAt).toBeNull();
        expect(await store.enrollment.redeem("e1", T0, newMachine("fine"))).toBeDefined();
      });
    });

    describe("transactions", () => {
      test("writes through tx land together when the work resolves", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const result = await store.transaction(async (tx) => {
          const job = await queue(tx, machine, repo);
          await tx.audit.append({ actor: "system", action: "job.queue", target: `job:${job}` }, T0);
          // tx reads its own writes.
          expect((await tx.jobs.byId(job))?.status).toBe("queued");
          return job;
        });
        expect((await store.jobs.byId(result))?.status).toBe("queued");
        expect((await store.audit.list({ limit: 10 })).map((e) => e.target)).toEqual([
          `job:${result}`,
        ]);
      });

      test("nothing lands when the work throws, and the error comes back", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const boom = new Error("boom");
        await expect(
          store.transaction(async (tx) => {
            await queue(tx, machine, repo);
            await tx.machines.update(machine, { name: "renamed" }, T0);
            await tx.audit.append({ actor: "system", action: "x" }, T0);
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.jobs.list({ limit: 10 })).toEqual([]);
        expect((await store.machines.byId(machine))?.name).toBe("m1");
        expect(await store.audit.list({ limit: 10 })).toEqual([]);
        // The store works normally afterwards.
        expect(await queue(store, machine, repo)).toBeNumber();
      });

      test("a nested transaction that fails undoes only its own writes", async () => {
        const store = await fresh();
        await store.transaction(async (tx) => {
          await tx.audit.append({ actor: "system", action: "outer.before" }, T0);
          await expect(
            tx.transaction(async (inner) => {
              await inner.audit.append({ actor: "system", action: "inner" }, T0);
              throw new Error("inner fails");
            }),
          ).rejects.toThrow("inner fails");
          await tx.transaction(async (inner) => {
            await inner.audit.append({ actor: "system", action: "inner.kept" }, T0);
          });
          await tx.audit.append({ actor: "system", action: "outer.after" }, T0);
        });
        expect((await store.audit.list({ limit: 10 })).map((e) => e.action).reverse()).toEqual([
          "outer.before",
          "inner.kept",
          "outer.after",
        ]);
      });

      test("methods atomic on their own work inside a transaction and roll back with it", async () => {
        const store = await fresh();
        const user = await addUser(store, "admin");
        await addEnrollment(store, user, "e1");
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.enrollment.redeem("e1", T0, newMachine("m2"))).toBeDefined();
            expect(await tx.jobs.insertQueued(newJob(machine, repo), T0)).toBeDefined();
            expect(await tx.machines.recordHeartbeat(machine, {}, T0)).toBeDefined();
            throw new Error("undo");
          }),
        ).rejects.toThrow("undo");
        expect((await store.enrollment.byHash("e1"))?.usedAt).toBeNull();
        expect(await store.jobs.list({ limit: 10 })).toEqual([]);
        expect((await store.machines.byId(machine))?.status).toBe("pending");
        expect(await store.enrollment.redeem("e1", T0, newMachine("m2"))).toBeDefined();
      });

      test("others see a transaction's writes all at once, never half of them", async () => {
        const store = await fresh();
        const machine = await addMachine(store, "m1");
        const repo = await addRepository(store, machine, "r1");
        const seen: number[] = [];
        const halfway = Promise.withResolvers<void>();
        const carryOn = Promise.withResolvers<void>();
        const writing = store.transaction(async (tx) => {
          await queue(tx, machine, repo, "repo.check");
          halfway.resolve();
          await carryOn.promise;
          await queue(tx, machine, repo, "repo.check");
        });
        await halfway.promise;
        const reading = store.jobs.list({ limit: 10 }).then((rows) => seen.push(rows.length));
        // Give the reader every chance to run while the transaction is half done.
        for (let i = 0; i < 20; i++) await Promise.resolve();
        carryOn.resolve();
        await Promise.all([writing, reading]);
        expect(seen).toHaveLength(1);
        expect([0, 2]).toContain(seen[0] ?? -1);
        expect(await store.jobs.list({ limit: 10 })).toHaveLength(2);
      });

      test("concurrent transactions each land whole", async () => {
        const store = await fresh();
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.transaction(async (tx) => {
              await tx.audit.append({ actor: "system", action: `t${i}.a` }, T0);
              await Promise.resolve();
              await tx.audit.append({ actor: "system", action: `t${i}.b` }, T0);
              if (i % 2 === 1) throw new Error(`t${i} fails`);
            }),
          ),
        );
        expect(results.map((r) => r.status)).toEqual([
          "fulfilled",
          "rejected",
          "fulfilled",
          "rejected",
          "fulfilled",
          "rejected",
        ]);
        const actions = (await store.audit.list({ limit: 100 })).map((e) => e.action).sort();
        expect(actions).toEqual(["t0.a", "t0.b", "t2.a", "t2.b", "t4.a", "t4.b"]);
      });
    });

    const migrations = factory.migrations;
    describe.if(migrations !== undefined)("migrations", () => {
      const harness = migrations as MigrationHarness;
      test("applied once on an empty database, nothing on re-open, data kept", async () => {
        expect(harness.tags.length).toBeGreaterThan(0);
        const location = await harness.emptyLocation();
        const first = await harness.open(location);
        expect(first.applied).toEqual([...harness.tags]);
        const user = await addUser(first.store, "admin");
        await first.close();

        const second = await harness.open(location);
        try {
          expect(second.applied).toEqual([]);
          expect((await second.store.users.byId(user))?.username).toBe("user-admin");
        } finally {
          await second.close();
        }
      });

      test("several openers racing on an empty database: each migration applied exactly once", async () => {
        const location = await harness.emptyLocation();
        const applied = await harness.openRacing(location, 3);
        expect(applied).toHaveLength(3);
        expect(applied.flat().sort()).toEqual([...harness.tags].sort());
        const after = await harness.open(location);
        try {
          expect(after.applied).toEqual([]);
          const machine = await addMachine(after.store, "m1");
          expect((await after.store.machines.byId(machine))?.name).toBe("m1");
        } finally {
          await after.close();
        }
      });
    });

    notificationConformance(fresh, connections);
  });
}

// --- fixtures, through the Store interface only -------------------------------------------

async function pagesOf<T extends { id: number }>(
  page: (before: number | undefined) => Promise<T[]>,
): Promise<number[][]> {
  const pages: number[][] = [];
  let before: number | undefined;
  for (;;) {
    const rows = await page(before);
    if (rows.length === 0) return pages;
    pages.push(rows.map((r) => r.id));
    before = rows.at(-1)?.id;
    if (pages.length > 100) throw new Error("paging does not end");
  }
}

async function addUser(
  store: Store,
  role: "admin" | "operator" | "viewer",
  username = `user-${role}`,
): Promise<number> {
  const user = await store.users.insert({ username, passwordHash: "argon2id$test", role });
  if (!user) throw new Error(`user ${username} exists`);
  return user.id;
}

async function addEnrollment(
  store: Store,
  userId: number,
  tokenHash: string,
  expiresAt = T0 + 60_000,
): Promise<number> {
  const row = await store.enrollment.insert({
    name: `enroll ${tokenHash}`,
    tokenHash,
    tokenPrefix: tokenHash.slice(0, 4),
    createdByUserId: userId,
    expiresAt,
    createdAt: T0 - 1000,
  });
  return row.id;
}

function newMachine(name: string): NewMachine {
  return {
    name,
    agentId: `agent-${name}`,
    tokenHash: `hash-${name}`,
    tokenPrefix: "borgctl_agent_",
    hostname: name,
    os: "linux",
    arch: "x64",
    agentVersion: "0.1.0",
    protocolVersion: 1,
    borgVersions: [{ major: 1, version: "1.4.1", path: "/usr/bin/borg" }],
    capabilities: ["backup", "prune"],
    sshPublicKey: null,
    status: "pending",
  };
}

async function addMachine(store: Store, name: string): Promise<number> {
  return (await store.machines.insert(newMachine(name))).id;
}

function newBox(name: string) {
  return {
    name,
    url: `http://${name}.test:9999`,
    tokenEncrypted: `sealed-${name}`,
    sshHost: `${name}.test`,
    sshPort: 22,
    sshUser: "borg",
    status: "online" as const,
    lastSeenAt: T0,
    lastError: null,
    version: "0.1.0",
    borgVersion: "1.2.4",
    freeBytes: 5_000_000_000_000,
    totalBytes: 8_000_000_000_000,
    repoCount: 0,
    sshHostKeys: ["ssh-ed25519 AAAA"],
    repos: [],
    reposListedAt: T0,
  };
}

function newRepository(agentMachineId: number, name: string, passphraseEncrypted: string | null) {
  return {
    name,
    agentMachineId,
    location: `/srv/borg/${name}`,
    borgVersion: 1 as const,
    encryption: passphraseEncrypted === null ? "none" : "repokey-blake2",
    passphraseEncrypted,
    passphraseLocation: "hub" as const,
    sourcePaths: ["/etc", "/home"],
    excludePatterns: ["sh:**/.cache"],
    compression: "zstd,3",
    archiveName: "{hostname}-{now}",
    appendOnly: false,
    sshHostKey: null,
  };
}

async function addRepository(store: Store, machine: number, name: string): Promise<number> {
  const repo = await store.repositories.insert(newRepository(machine, name, null));
  if (!repo) throw new Error(`repository ${name} exists`);
  return repo.id;
}

function newPlan(repositoryId: number) {
  return {
    repositoryId,
    name: "plan",
    schedule: "@daily",
    timezone: "UTC",
    enabled: true,
    retention: { keep_last: 3 },
    pruneAfterBackup: false,
    compactEveryDays: null,
    checkEveryDays: 30,
    checkVerifyData: true,
    missedRun: "run_once" as const,
    randomDelaySeconds: 0,
  };
}

function payload(jobId: number, jobKind: JobKind, repositoryId: number): JobPayload {
  return {
    schema_version: JOB_PAYLOAD_SCHEMA_VERSION,
    job_id: jobId,
    job_kind: jobKind,
    repository: {
      id: repositoryId,
      name: `repo-${repositoryId}`,
      location: "/srv/borg/test",
      borg_version: 1,
      encryption: "none",
      append_only: false,
      ssh_host_key: null,
    },
    ...(jobKind === "backup.create"
      ? {
          backup: {
            archive_name: "{hostname}-{now}",
            source_paths: ["/etc"],
            exclude_patterns: [],
            compression: "lz4",
          },
        }
      : {}),
    ...(jobKind === "repo.check" ? { check: { repository_only: false, verify_data: false } } : {}),
    secrets: { passphrase_location: "hub" },
  };
}

function newJob(
  agentMachineId: number,
  repositoryId: number,
  jobKind: JobKind = "backup.create",
  extra: { planId?: number; scheduledFor?: number } = {},
) {
  return {
    agentMachineId,
    repositoryId,
    jobKind,
    triggeredBy: "test",
    exclusive: jobKind === "backup.create",
    payloadFor: (id: number) => payload(id, jobKind, repositoryId),
    ...extra,
  };
}

async function queue(
  store: Store,
  machine: number,
  repo: number,
  jobKind: JobKind = "backup.create",
  extra: { planId?: number; scheduledFor?: number } = {},
): Promise<number> {
  const job = await store.jobs.insertQueued(newJob(machine, repo, jobKind, extra), T0);
  if (!job) throw new Error("queue refused");
  return job.id;
}

/** A running check job of `machine` (a new machine and repository when not given). */
async function runningJob(
  store: Store,
  machine?: number,
  startedAt = T0,
  leaseUntil = startedAt + LEASE,
): Promise<{ machine: number; job: number }> {
  const owner = machine ?? (await addMachine(store, `m-${crypto.randomUUID()}`));
  const repo = await addRepository(store, owner, `r-${crypto.randomUUID()}`);
  const job = await queue(store, owner, repo, "repo.check");
  if (!(await store.jobs.claim(job, owner, startedAt, leaseUntil))) throw new Error("claim");
  if (!(await store.jobs.start(job, owner, startedAt, leaseUntil))) throw new Error("start");
  return { machine: owner, job };
}
