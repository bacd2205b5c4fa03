/**
 * Keeps SQLite's WAL checkpoints off the hub's event loop.
 *
 * Why: bun:sqlite runs every statement on the JS thread, and SQLite's automatic
 * checkpoint runs inside the commit that crosses 1,000 WAL pages. With a fleet's
 * heartbeats flushed once a second (services/heartbeat-batch.ts), each flush touches a
 * few hundred pages of the machines table, so every second or two one commit also
 * copied the WAL into the database and synced it: measured at 19,000 agents, bursts of
 * 80–140 ms every ~2 s, heartbeat p99 54–56 ms; with the checkpoint off the loop, 16–18 ms.
 *
 * Lifecycle: `startCheckpointer(sqlite, path)` after the migrations; it turns the write
 * connection's automatic checkpoint off and starts checkpoint-worker.ts, which does the
 * same work on its own thread and connection every CHECKPOINT_INTERVAL_MS. If the thread
 * cannot start or fails, the automatic checkpoint is switched back on (nothing is lost
 * either way: until a checkpoint, committed pages live in the WAL). `stop()` ends the
 * thread; the write connection's close checkpoints what is left, as it always did.
 */
import type { Database } from "bun:sqlite";

export const CHECKPOINT_INTERVAL_MS = 1_000;
/** SQLite's default, restored when the thread is not there to do the work. */
const AUTOCHECKPOINT_PAGES = 1_000;

/**
 * Where the thread's code is. From source, beside this file. In the compiled binary,
 * build.ts adds checkpoint-worker.ts as a second entrypoint, which Bun stores under
 * its path below the entrypoints' common directory (src/), while this module is part
 * of the main bundle at the root: the relative URL would miss it.
 */
function workerUrl(): string {
  if (!import.meta.url.startsWith("file:///$bunfs/")) {
    return new URL("./checkpoint-worker.ts", import.meta.url).href;
  }
  return "/$bunfs/root/server/db/sqlite/checkpoint-worker.js";
}

export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  stop(): void;
}

export function startCheckpointer(
  sqlite: Database,
  path: string,
  options: {
    intervalMs?: number;
    onCheckpoint?: (result: CheckpointResult) => void;
    onError?: (message: string) => void;
    /** The thread has its connection open and checkpoints from now on. */
    onReady?: () => void;
  } = {},
): Checkpointer {
  const fallBack = (message: string) => {
    sqlite.run(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    options.onError?.(message);
  };
  let worker: Worker;
  try {
    // ref: false, so that the thread does not keep a stopping hub alive.
    worker = new Worker(workerUrl(), { ref: false });
  } catch (error) {
    fallBack(`the checkpoint thread did not start: ${(error as Error).message}`);
    return { stop: () => {} };
  }
  sqlite.run("PRAGMA wal_autocheckpoint = 0");
  let stopped = false;
  worker.onmessage = (event: MessageEvent) => {
    const data = event.data as { ready?: true; checkpointed?: CheckpointResult; error?: string };
    if (data.ready) options.onReady?.();
    else if (data.checkpointed) options.onCheckpoint?.(data.checkpointed);
    else if (data.error) options.onError?.(`checkpoint failed: ${data.error}`);
  };
  worker.onerror = (event) => {
    if (!stopped) fallBack(`the checkpoint thread failed: ${event.message}`);
  };
  worker.postMessage({ path, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS });
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      worker.postMessage("stop");
    },
  };
}
