/**
 * The Store conformance suite (test/conformance/store.ts) against the SQLite store: in
 * memory, as the tests' hubs use it, and on a real file, where a second connection is a
 * second `openSqliteStore` of the same path and racing openers are separate processes.
 */
import { afterAll } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { embeddedMigrations } from "../../../src/server/db/sqlite/migrate.ts";
import { openSqliteStore } from "../../../src/server/db/sqlite/store.ts";
import { storeConformance, type TestStore } from "../../conformance/store.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const emptyLocation = async (): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-store-"));
  dirs.push(dir);
  return join(dir, "hub.sqlite");
};

const STORE_MODULE = resolve(import.meta.dir, "../../../src/server/db/sqlite/store.ts");

/**
 * Opens `count` stores on `path` from separate processes, released at once by a go
 * file after all of them are ready, so their migration runs really overlap.
 */
async function openRacing(path: string, count: number): Promise<string[][]> {
  const dir = `${path}.race`;
  const go = `${dir}-go`;
  const script = `
    import { existsSync, writeFileSync } from "node:fs";
    import { openSqliteStore } from ${JSON.stringify(STORE_MODULE)};
    const { RACE_PATH, RACE_GO, RACE_READY } = process.env;
    writeFileSync(RACE_READY, "");
    const deadline = Date.now() + 20_000;
    while (!existsSync(RACE_GO)) {
      if (Date.now() > deadline) throw new Error("no go");
      Bun.sleepSync(1);
    }
    const opened = openSqliteStore(RACE_PATH);
    await opened.store.users.count();
    console.log(JSON.stringify(opened.applied));
    await opened.close();
  `;
  const children = Array.from({ length: count }, (_, i) => {
    const ready = `${dir}-ready-${i}`;
    const child = Bun.spawn([process.execPath, "-e", script], {
      env: { ...process.env, RACE_PATH: path, RACE_GO: go, RACE_READY: ready },
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
  return Promise.all(
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
}

storeConformance("SQLite in memory", {
  fresh: async () => openSqliteStore(":memory:"),
});

const paths = new WeakMap<TestStore, string>();
storeConformance("SQLite file", {
  async fresh() {
    const path = await emptyLocation();
    const opened = openSqliteStore(path);
    paths.set(opened, path);
    return opened;
  },
  async connect(of) {
    const path = paths.get(of);
    if (path === undefined) throw new Error("not a store of this factory");
    return openSqliteStore(path);
  },
  migrations: {
    tags: embeddedMigrations().map((m) => m.tag),
    emptyLocation,
    open: async (path) => openSqliteStore(path),
    openRacing,
  },
});
