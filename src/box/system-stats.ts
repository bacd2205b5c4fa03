/**
 * Host numbers the box reports: `GET /system/stats` (hostname, uptime, load, storage of
 * the repo root) and the disk space part of `GET /info`.
 *
 * The repo root may not exist yet on a fresh box (it is created with the first repo), so
 * disk space is measured on the nearest existing ancestor: the filesystem the root
 * will live on.
 */
import type { StatsFs } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface DiskSpace {
  total_bytes: number;
  /** Space an unprivileged writer (the box user, borg) can still use. */
  free_bytes: number;
}

export interface SystemStats {
  hostname: string;
  uptime_seconds: number;
  load: [number, number, number];
  storage: {
    path: string;
    total_bytes: number;
    used_bytes: number;
    free_bytes: number;
  };
}

/** statfs of `target`, or of its nearest existing ancestor. */
async function statfsNearest(target: string): Promise<StatsFs> {
  let current = path.resolve(target);
  for (;;) {
    try {
      return await fs.statfs(current);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === current) throw e;
      current = parent;
    }
  }
}

async function readStorage(target: string): Promise<DiskSpace & { used_bytes: number }> {
  const s = await statfsNearest(target);
  const total = s.blocks * s.bsize;
  return {
    total_bytes: total,
    // bfree includes blocks reserved for root; `df` shows used = blocks - bfree too.
    used_bytes: (s.blocks - s.bfree) * s.bsize,
    free_bytes: s.bavail * s.bsize,
  };
}

/** Total and free (available to non-root) bytes of the filesystem holding `target`. */
export async function readDiskSpace(target: string): Promise<DiskSpace> {
  const { total_bytes, free_bytes } = await readStorage(target);
  return { total_bytes, free_bytes };
}

export async function readSystemStats(root: string): Promise<SystemStats> {
  const storage = await readStorage(root);
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    hostname: os.hostname(),
    uptime_seconds: Math.floor(os.uptime()),
    load: [l1, l5, l15],
    storage: { path: path.resolve(root), ...storage },
  };
}
