/**
 * Which Store the in-process test hub (hub.ts) runs on: SQLite (the default), or
 * PostgreSQL when `BORGCTL_TEST_STORE=postgres`, so the hub integration suites run in both
 * modes with no change to a test.
 *
 * PostgreSQL mode: one throwaway cluster per test process (test/helpers/postgres.ts),
 * started by the first hub that needs it, and a fresh database per hub (per `key`: hubs
 * created with the same key — a test restarting "the hub" on the same file — share one).
 * `bun test` runs every file in one process and offers no hook after the last one, so
 * the cluster is stopped by a small watchdog process that waits for this process to end
 * (however it ends) and then runs pg_ctl stop and removes the cluster's directory.
 */
import { openPgStore, type PgStore } from "../../src/server/db/pg/store.ts";
import { type PostgresCluster, startPostgres } from "./postgres.ts";

export type TestStoreKind = "sqlite" | "postgres";

/** The store the test hub uses in this process. */
export function testStoreKind(): TestStoreKind {
  const value = process.env.BORGCTL_TEST_STORE ?? "sqlite";
  if (value !== "sqlite" && value !== "postgres") {
    throw new Error(`BORGCTL_TEST_STORE must be sqlite or postgres, not ${JSON.stringify(value)}`);
  }
  return value;
}

let cluster: Promise<PostgresCluster> | undefined;
const databases = new Map<string, Promise<string>>();

/** Waits for the test process (argv[1]) to end, then stops the cluster and removes it. */
const WATCHDOG = `
  const [pid, dir, ...stop] = JSON.parse(process.argv[1]);
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  while (alive()) await Bun.sleep(500);
  Bun.spawnSync(stop, { stdout: "ignore", stderr: "ignore" });
  (await import("node:fs")).rmSync(dir, { recursive: true, force: true });
`;

function sharedCluster(): Promise<PostgresCluster> {
  cluster ??= startPostgres().then((started) => {
    const watchdog = Bun.spawn(
      [
        process.execPath,
        "-e",
        WATCHDOG,
        JSON.stringify([process.pid, started.dir, ...started.stopArgv]),
      ],
      { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
    );
    watchdog.unref();
    return started;
  });
  return cluster;
}

/**
 * A PostgreSQL store for one test hub: a new database (or the one already made for
 * `key`), migrated by openPgStore exactly as `borgctl server` migrates it.
 */
export async function openTestPgStore(key?: string): Promise<PgStore> {
  const pg = await sharedCluster();
  let url = key === undefined ? undefined : databases.get(key);
  if (url === undefined) {
    url = pg.createDatabase("hub");
    if (key !== undefined) databases.set(key, url);
  }
  // Few connections per hub: a test file may open several hubs on one cluster.
  return openPgStore(await url, { max: 4 });
}
