/**
 * The Store conformance suite (test/conformance/store.ts) against the PostgreSQL store,
 * on a throwaway cluster this file starts (test/helpers/postgres.ts). Each fresh store
 * gets a database of its own; a second connection is a second openPgStore (its own pool)
 * on the same URL; racing openers are separate processes released at the same moment.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { embeddedPgMigrations } from "../../../src/server/db/pg/migrate.ts";
import { openPgStore } from "../../../src/server/db/pg/store.ts";
import { storeConformance, type TestStore } from "../../conformance/store.ts";
import { type PostgresCluster, startPostgres } from "../../helpers/postgres.ts";

let cluster: PostgresCluster;
let startedAt = 0;
beforeAll(async () => {
  startedAt = performance.now();
  cluster = await startPostgres();
  console.log(`postgres cluster up in ${Math.round(performance.now() - startedAt)} ms`);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  console.log(`store-postgres: ${Math.round(performance.now() - startedAt)} ms in all`);
});

const STORE_MODULE = resolve(import.meta.dir, "../../../src/server/db/pg/store.ts");

/**
 * Opens `count` stores on `url` from separate processes, released at once by a go file
 * after all of them are ready, so their migration runs really overlap.
 */
async function openRacing(url: string, count: number): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-pg-race-"));
  const go = join(dir, "go");
  const script = `
    import { existsSync, writeFileSync } from "node:fs";
    import { openPgStore } from ${JSON.stringify(STORE_MODULE)};
    const { RACE_URL, RACE_GO, RACE_READY } = process.env;
    writeFileSync(RACE_READY, "");
    const deadline = Date.now() + 20_000;
    while (!existsSync(RACE_GO)) {
      if (Date.now() > deadline) throw new Error("no go");
      Bun.sleepSync(1);
    }
    const opened = await openPgStore(RACE_URL);
    await opened.store.users.count();
    console.log(JSON.stringify(opened.applied));
    await opened.close();
  `;
  try {
    const children = Array.from({ length: count }, (_, i) => {
      const ready = join(dir, `ready-${i}`);
      const child = Bun.spawn([process.execPath, "-e", script], {
        env: { ...process.env, RACE_URL: url, RACE_GO: go, RACE_READY: ready },
        stdout: "pipe",
        stderr: "pipe",
      });
      return { child, ready };
    });
    const deadline = Date.now() + 20_000;
    while (!children.every((c) => existsSync(c.ready))) {
      if (Date.now() > deadline) throw new Error("racers did not start");
      await Bun.sleep(5);
    }
    writeFileSync(go, "");
    return await Promise.all(
      children.map(async ({ child }) => {
        const [stdout, stderr, code] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.exited,
        ]);
        if (code !== 0) throw new Error(`racer exited ${code}: ${stderr}`);
        return JSON.parse(stdout.trim()) as string[];
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const urls = new WeakMap<TestStore, string>();
storeConformance("PostgreSQL", {
  async fresh() {
    const url = await cluster.createDatabase("store");
    const opened = await openPgStore(url);
    urls.set(opened, url);
    return opened;
  },
  async connect(of) {
    const url = urls.get(of);
    if (url === undefined) throw new Error("not a store of this factory");
    return openPgStore(url);
  },
  migrations: {
    tags: embeddedPgMigrations().map((m) => m.tag),
    emptyLocation: () => cluster.createDatabase("migrate"),
    open: (url) => openPgStore(url),
    openRacing,
  },
});
