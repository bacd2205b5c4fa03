/**
 * The WAL checkpointer's thread (checkpointer.ts starts it): its own connection to the
 * hub's database, running `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`. PASSIVE
 * copies what no reader still needs from the WAL into the database file and waits for
 * no lock, so the hub's writes and reads go on meanwhile; it is what SQLite's automatic
 * checkpoint does, moved off the event loop.
 *
 * Lifecycle: the first message is `{ path, intervalMs }`; each checkpoint is reported as
 * `{ checkpointed: { busy, log, checkpointed } }` (SQLite's three numbers, pages), a
 * failure as `{ error }` (the next tick tries again). `"stop"` closes the connection and
 * ends the thread.
 */
import { Database } from "bun:sqlite";

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
  const checkpoint = connection.query<{ busy: number; log: number; checkpointed: number }, []>(
    "PRAGMA wal_checkpoint(PASSIVE)",
  );
  timer = setInterval(() => {
    try {
      self.postMessage({ checkpointed: checkpoint.get() });
    } catch (error) {
      self.postMessage({ error: (error as Error).message });
    }
  }, intervalMs);
};
