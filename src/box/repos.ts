/**
 * Repo directories under the box's root, and the facts the box reads about them from
 * disk alone: no borg process, no passphrase.
 *
 * Borg 1.x keeps a repo as: `config` (INI; in repokey mode it holds the encrypted key),
 * `integrity.N` / `hints.N` / `index.N` at the top (N = last committed segment),
 * `data/<dir>/<segment>` files, and `lock.exclusive/` + `lock.roster` while locked.
 *
 * Safety rules this file keeps:
 * - a repo directory that is a symlink is refused everywhere (lstat, never followed), so
 *   a link planted under the root cannot make the box read or delete something else;
 * - walks use lstat and never descend into symlinks;
 * - `config` is read only far enough to decide "initialized", and its content never
 *   leaves this file (not returned, not logged, not put in an error message).
 */
import { constants, type Dirent, type Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "../shared/errors.ts";
import { REPO_NAME_RE, resolveRepoPath } from "./repo-names.ts";

export interface RepoFacts {
  name: string;
  path: string;
  size_bytes: number;
  initialized: boolean;
  /** RFC 3339 UTC: the newest mtime of the repo dir and everything under it. */
  modified_at: string;
  /** RFC 3339 UTC mtime of the highest `integrity.N` (borg rewrites it on every commit). */
  last_write_at: string | null;
  /** N of the highest `integrity.N`, i.e. the last committed segment. */
  last_segment: number | null;
  /** `lock.exclusive` or `lock.roster` present. */
  locked: boolean;
}

/** Enough for the `[repository]` section borg writes; the key blob comes after it. */
const CONFIG_READ_LIMIT = 4096;
const INTEGRITY_RE = /^integrity\.(\d+)$/;

/** RFC 3339 UTC with second precision, like borgbox's Go output ("2026-04-13T10:02:17Z"). */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
};

const symlinkRefused = (name: string) =>
  new AppError("validation_failed", `repo "${name}" is a symlink, refused`);

/** lstat that answers null for "not there" and rethrows anything else. */
async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    // A directory that vanished mid-walk (e.g. borg compacting) counts as empty.
    if (isMissing(e)) return [];
    throw e;
  }
}

/**
 * Sum of regular file sizes and the newest mtime under `dir`; symlinks are not followed.
 * Files of one directory are stat'ed together, subdirectories one after another: that
 * bounds the I/O in flight to about one borg segment dir (≤ 1000 files) per walk.
 */
async function walkSizes(dir: string): Promise<{ size: number; newestMtimeMs: number }> {
  let size = 0;
  let newestMtimeMs = 0;
  const entries = await readdirOrEmpty(dir);
  const files = entries.filter((e) => e.isFile());
  const stats = await Promise.all(files.map((e) => lstatOrNull(path.join(dir, e.name))));
  for (const st of stats) {
    if (!st?.isFile()) continue;
    size += st.size;
    newestMtimeMs = Math.max(newestMtimeMs, st.mtimeMs);
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const full = path.join(dir, entry.name);
    const st = await lstatOrNull(full);
    if (!st?.isDirectory()) continue;
    const sub = await walkSizes(full);
    size += sub.size;
    newestMtimeMs = Math.max(newestMtimeMs, st.mtimeMs, sub.newestMtimeMs);
  }
  return { size, newestMtimeMs };
}

/**
 * True when the config's `[repository]` section says `version = 1` or `2`.
 * Reads at most CONFIG_READ_LIMIT bytes; O_NOFOLLOW and the isFile check keep a planted
 * symlink or FIFO from redirecting or blocking the read. Returns only a boolean.
 */
async function configIsInitialized(repoPath: string): Promise<boolean> {
  const configPath = path.join(repoPath, "config");
  const st = await lstatOrNull(configPath);
  if (!st?.isFile()) return false;
  let text: string;
  try {
    const fh = await fs.open(
      configPath,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
    try {
      const buf = Buffer.alloc(CONFIG_READ_LIMIT);
      const { bytesRead } = await fh.read(buf, 0, CONFIG_READ_LIMIT, 0);
      text = buf.subarray(0, bytesRead).toString("utf8");
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
  let inRepositorySection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inRepositorySection = line === "[repository]";
      continue;
    }
    if (inRepositorySection && /^version\s*=\s*[12]$/.test(line)) return true;
  }
  return false;
}

/** Facts about one repo read from disk. not_found when missing; symlinked dirs are refused. */
export async function readRepoFacts(root: string, name: string): Promise<RepoFacts> {
  const repoPath = resolveRepoPath(root, name);
  const dirStat = await lstatOrNull(repoPath);
  if (dirStat?.isSymbolicLink()) throw symlinkRefused(name);
  if (!dirStat?.isDirectory()) throw new AppError("not_found", `repo "${name}" not found`);

  const top = await readdirOrEmpty(repoPath);
  const topNames = new Set(top.map((e) => e.name));

  let lastSegment: number | null = null;
  for (const entry of top) {
    const match = INTEGRITY_RE.exec(entry.name);
    if (!match || !entry.isFile()) continue;
    const n = Number(match[1]);
    if (lastSegment === null || n > lastSegment) lastSegment = n;
  }

  const [walk, initialized, integrityStat] = await Promise.all([
    walkSizes(repoPath),
    configIsInitialized(repoPath),
    lastSegment === null ? null : lstatOrNull(path.join(repoPath, `integrity.${lastSegment}`)),
  ]);

  return {
    name,
    path: repoPath,
    size_bytes: walk.size,
    initialized,
    modified_at: formatTimestamp(Math.max(dirStat.mtimeMs, walk.newestMtimeMs)),
    last_write_at: integrityStat ? formatTimestamp(integrityStat.mtimeMs) : null,
    last_segment: integrityStat ? lastSegment : null,
    locked: topNames.has("lock.exclusive") || topNames.has("lock.roster"),
  };
}

/** Names of direct child directories of `root` that are valid repo names, sorted. */
export async function listRepoDirs(root: string): Promise<string[]> {
  const entries = await readdirOrEmpty(path.resolve(root));
  // Dirent types come from readdir without following links: a symlink is never a dir here.
  return entries
    .filter((e) => e.isDirectory() && REPO_NAME_RE.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Creates the repo directory (0700), and the root (0700) if missing. Idempotent for an
 * existing directory; refuses a symlink or a non-directory in its place. Returns the path.
 */
export async function createRepoDir(root: string, name: string): Promise<string> {
  const repoPath = resolveRepoPath(root, name);
  await fs.mkdir(path.dirname(repoPath), { recursive: true, mode: 0o700 });
  try {
    await fs.mkdir(repoPath, { mode: 0o700 });
    return repoPath;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = await fs.lstat(repoPath);
  if (st.isSymbolicLink()) throw symlinkRefused(name);
  if (!st.isDirectory()) {
    throw new AppError("conflict", `repo "${name}" exists and is not a directory`);
  }
  return repoPath;
}

/** Removes the repo directory and everything in it. Missing is fine; symlinks are refused. */
export async function removeRepoDir(root: string, name: string): Promise<void> {
  const repoPath = resolveRepoPath(root, name);
  const st = await lstatOrNull(repoPath);
  if (!st) return;
  if (st.isSymbolicLink()) throw symlinkRefused(name);
  if (!st.isDirectory()) {
    throw new AppError("conflict", `repo "${name}" is not a directory, refused`);
  }
  // fs.rm unlinks symlinks found inside the tree instead of following them.
  await fs.rm(repoPath, { recursive: true, force: true });
}
