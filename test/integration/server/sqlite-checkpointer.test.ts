/**
 * The hub's SQLite WAL checkpoints run on a thread of their own (db/sqlite/checkpointer.ts),
 * not inside whichever commit crosses SQLite's 1,000-page mark on the event loop. Real
 * files, real bun:sqlite, the real worker thread.
 */
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CheckpointResult,
  startCheckpointer,
} from "../../../src/server/db/sqlite/checkpointer.ts";
import { openDatabase } from "../../../src/server/db/sqlite/client.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "borgctl-checkpoint-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** 2,000 rows of 3 KB: about 1,500 pages, past SQLite's automatic checkpoint. */
function writePages(run: (sql: string) => void): void {
  run("CREATE TABLE filler (bytes BLOB)");
  for (let i = 0; i < 2_000; i++) run("INSERT INTO filler VALUES (randomblob(3000))");
}

/** A bare WAL database, for the checkpointer on its own. */
function walDatabase(path: string): Database {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  return sqlite;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await Bun.sleep(50);
  }
  throw new Error(`never happened: ${what}`);
}

describe("WAL checkpoints off the event loop", () => {
  test("the write connection's commits leave the WAL alone; the thread copies it into the file", async () => {
    const path = join(dir, "hub.db");
    const database = openDatabase(path);
    try {
      expect(database.sqlite.query("PRAGMA wal_autocheckpoint").get()).toEqual({
        wal_autocheckpoint: 0,
      });
      const before = statSync(path).size;
      writePages((sql) => database.sqlite.run(sql));
      // Automatic checkpoints are off (above), so only the thread moves pages into the file.
      await until(() => statSync(path).size > before + 1_000 * 4096, "the database file grew");
      expect(database.sqlite.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: 2_000 });
    } finally {
      database.close();
    }
  });

  test("each checkpoint is reported, and none waited on a lock", async () => {
    const path = join(dir, "reported.db");
    const sqlite = walDatabase(path);
    const results: CheckpointResult[] = [];
    let ready = false;
    const checkpointer = startCheckpointer(sqlite, path, {
      intervalMs: 20,
      onCheckpoint: (result) => results.push(result),
      onReady: () => {
        ready = true;
      },
    });
    try {
      await until(() => ready, "the thread to say it is ready");
      writePages((sql) => sqlite.run(sql));
      await until(() => statSync(path).size > 1_000 * 4096, "the database file grew");
      await until(() => results.some((r) => r.checkpointed > 0), "a checkpoint reported");
      expect(results.every((r) => r.busy === 0 && r.checkpointed <= r.log)).toBe(true);
    } finally {
      checkpointer.stop();
      sqlite.close();
    }
  });

  test("without the thread, SQLite's own automatic checkpoint is back", async () => {
    const sqlite = walDatabase(join(dir, "fallback.db"));
    const warnings: string[] = [];
    const original = globalThis.Worker;
    // A runtime that cannot start the thread (the only way to make the constructor fail).
    globalThis.Worker = class {
      constructor() {
        throw new Error("no threads here");
      }
    } as unknown as typeof Worker;
    try {
      startCheckpointer(sqlite, join(dir, "fallback.db"), {
        onError: (message) => warnings.push(message),
      });
    } finally {
      globalThis.Worker = original;
    }
    expect(warnings).toEqual(["the checkpoint thread did not start: no threads here"]);
    expect(sqlite.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 1_000 });
    sqlite.close();
  });
});
