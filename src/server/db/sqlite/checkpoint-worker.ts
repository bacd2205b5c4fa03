/**
 * The WAL checkpointer's thread (checkpointer.ts starts it): its own connection to the
 * hub's database, running `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`. PASSIVE
 * copies what no reader still needs from the WAL into the database file and waits for
 * no lock, so the hub's writes and reads go on meanwhile; it is what SQLite's automatic
 * checkpoint does, moved off the event loop.
 *
 * Lifecycle: the first message is `{ path, intervalMs }`; once its connection is open it
 * answers `{ ready: true }`; each checkpoint that copied pages is reported as
 * `{ checkpointed: { busy, log, checkpointed } }` (SQLite's three numbers, pages), a
 * failure as `{ error }`, once until it changes (the next tick tries again). `"stop"`
 * closes the connection and ends the thread.
 */
import { Database } from "bun:sqlite";
import type { CheckpointResult } from "./checkpointer.ts";

declare const self: Worker;

let database: Database | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

self.onmessage = (event: MessageEvent) => {
  if (event.data === "stop") {
    clearInterval(timer);
    database?.close();
    process.exit(0);
  }
  const { path, intervalMs } = event.data as { path: string; intervalMs: number };
  const connection = new Database(path, { strict: true });
  connection.run("PRAGMA busy_timeout = 10000");
  database = connection;
  const checkpoint = connection.query<CheckpointResult, []>("PRAGMA wal_checkpoint(PASSIVE)");
  self.postMessage({ ready: true });
  // Only what is news crosses to the hub's thread: a checkpoint that copied pages, and
  // a failure once (not every second while it lasts).
  let lastError: string | undefined;
  timer = setInterval(() => {
    try {
      const result = checkpoint.get();
      lastError = undefined;
      if (result && result.checkpointed > 0) self.postMessage({ checkpointed: result });
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastError) self.postMessage({ error: message });
      lastError = message;
    }
  }, intervalMs);
};
