/**
 * Mutual exclusion around a file that several writers may rewrite: within this process
 * (an async mutex per lock path) and across processes (a lock file created with O_EXCL).
 *
 * Why a lock file and not flock(2): node:fs has no flock, and bun:ffi would tie the box to
 * libc names per platform. A lock file created with `open(path, "wx")` is atomic on every
 * local filesystem and needs nothing else. Its weakness is a holder that dies without
 * removing it, so the file records `<pid> <token>` and a waiter treats it as stale when:
 *   - that pid no longer exists (kill(pid, 0) → ESRCH), or
 *   - that pid is our own: the in-process mutex guarantees nobody in this process holds
 *     the lock, so it was left by an earlier process that had the same pid (a box that is
 *     PID 1 in a container restarts with the same pid every time), or
 *   - it is older than `staleAfterMs` (pid reused by an unrelated process; the critical
 *     section is a few milliseconds of file I/O, so minutes mean the holder is gone), or
 *   - it is empty/unreadable for longer than a short grace (holder died between create
 *     and write).
 * Breaking a stale lock is itself serialised by a second O_EXCL file (`<lock>.break`), and
 * the breaker re-reads the lock under it and removes it only if it is still the very file
 * it judged stale (same content, inode and mtime), so two waiters can't both "break" and
 * one of them delete a freshly taken lock.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, realpath, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../shared/errors.ts";

export interface FileLockOptions {
  /** Give up waiting after this long; default 10 s. */
  timeoutMs?: number;
  /** A lock file older than this is stale whatever its pid says; default 2 minutes. */
  staleAfterMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_AFTER_MS = 120_000;
/** How long an empty lock file (created, content not yet written) counts as live. */
const UNWRITTEN_GRACE_MS = 10_000;
/** A `.break` file lives for microseconds; older than this its owner died mid-break. */
const BREAK_GRACE_MS = 10_000;
const MAX_BACKOFF_MS = 50;

/** Tail of the promise chain per resolved lock path: the in-process half of the lock. */
const inProcessTails = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding the lock `lockPath` (the file is created and removed here; its
 * directory must exist). Throws AppError("internal") when the lock can't be had in time.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const key = await canonicalLockPath(lockPath);
  return withInProcessMutex(key, async () => {
    const token = await acquireLockFile(key, options);
    try {
      return await fn();
    } finally {
      await releaseLockFile(key, token);
    }
  });
}

/** Same file, same key, however the caller spelled the path (relative, via a symlinked dir). */
async function canonicalLockPath(lockPath: string): Promise<string> {
  const absolute = path.resolve(lockPath);
  try {
    return path.join(await realpath(path.dirname(absolute)), path.basename(absolute));
  } catch {
    return absolute;
  }
}

async function withInProcessMutex<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = inProcessTails.get(key) ?? Promise.resolve();
  let release = () => {};
  const current = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => current);
  inProcessTails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (inProcessTails.get(key) === tail) inProcessTails.delete(key);
  }
}

async function acquireLockFile(lockPath: string, options: FileLockOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const token = randomBytes(8).toString("hex");
  const deadline = Date.now() + timeoutMs;
  let backoffMs = 1;
  for (;;) {
    if (await tryCreateLockFile(lockPath, `${process.pid} ${token}\n`)) return token;
    if (await breakLockIfStale(lockPath, staleAfterMs)) continue;
    if (Date.now() >= deadline) {
      const holder = await readHolder(lockPath);
      const by = holder?.pid === undefined ? "" : ` (held by pid ${holder.pid})`;
      throw new AppError(
        "internal",
        `timed out after ${timeoutMs} ms waiting for lock ${lockPath}${by}; if no borgctl process is using it, delete that file`,
      );
    }
    // Jitter keeps several waiting processes from retrying in lockstep.
    await Bun.sleep(backoffMs + Math.random() * backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  }
}

async function tryCreateLockFile(lockPath: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lockPath, "wx", 0o600);
  } catch (e) {
    if (errorCode(e) === "EEXIST") return false;
    throw e;
  }
  try {
    await handle.writeFile(content);
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(lockPath).catch(() => {});
    throw e;
  }
  await handle.close();
  return true;
}

async function releaseLockFile(lockPath: string, token: string): Promise<void> {
  // Only remove our own lock: if it was (wrongly) judged stale and retaken, it is not ours.
  const holder = await readHolder(lockPath);
  if (holder?.token === token) await unlink(lockPath).catch(ignoreMissing);
}

interface LockHolder {
  raw: string;
  pid?: number;
  token?: string;
  ino: number;
  mtimeMs: number;
}

async function readHolder(lockPath: string): Promise<LockHolder | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(lockPath, "latin1"), stat(lockPath)]);
    const match = /^(\d+) ([0-9a-f]+)\n$/.exec(raw);
    const holder: LockHolder = { raw, ino: info.ino, mtimeMs: info.mtimeMs };
    if (match?.[1] !== undefined && match[2] !== undefined) {
      holder.pid = Number(match[1]);
      holder.token = match[2];
    }
    return holder;
  } catch (e) {
    if (errorCode(e) === "ENOENT") return undefined;
    throw e;
  }
}

function isStale(holder: LockHolder, staleAfterMs: number): boolean {
  const ageMs = Date.now() - holder.mtimeMs;
  if (holder.pid === undefined) return ageMs > UNWRITTEN_GRACE_MS;
  if (ageMs > staleAfterMs) return true;
  if (holder.pid === process.pid) return true;
  return !processExists(holder.pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return errorCode(e) !== "ESRCH";
  }
}

/** Returns true when the caller should retry at once (lock gone or removed as stale). */
async function breakLockIfStale(lockPath: string, staleAfterMs: number): Promise<boolean> {
  const observed = await readHolder(lockPath);
  if (observed === undefined) return true;
  if (!isStale(observed, staleAfterMs)) return false;

  const breakPath = `${lockPath}.break`;
  let breaker: Awaited<ReturnType<typeof open>>;
  try {
    breaker = await open(breakPath, "wx", 0o600);
  } catch (e) {
    if (errorCode(e) !== "EEXIST") throw e;
    const info = await stat(breakPath).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > BREAK_GRACE_MS) {
      await unlink(breakPath).catch(ignoreMissing);
    }
    return false;
  }
  try {
    const current = await readHolder(lockPath);
    if (
      current !== undefined &&
      current.raw === observed.raw &&
      current.ino === observed.ino &&
      current.mtimeMs === observed.mtimeMs
    ) {
      await unlink(lockPath).catch(ignoreMissing);
    }
    return true;
  } finally {
    await breaker.close().catch(() => {});
    await unlink(breakPath).catch(ignoreMissing);
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

function ignoreMissing(e: unknown): void {
  if (errorCode(e) !== "ENOENT") throw e;
}
