/**
 * A bounded estimate of how many bytes a backup will read, so progress can show a
 * percent and ETA. It walks the sources like borg does (lstat, symlinks not followed)
 * and gives up — returning undefined, which means "indeterminate" — past a number of
 * entries or a time budget, so a huge tree never delays the backup by much. Exclude
 * patterns are not applied: the estimate can be high, which the tracker caps at 99%.
 * A backup runs it beside borg, not before it, and aborts it (`signal`) when borg ends.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface PrescanOptions {
  maxEntries?: number;
  maxMs?: number;
  now?: () => number;
  /** Stops the walk (undefined is returned): the backup it was for has ended. */
  signal?: AbortSignal;
}

export async function estimateSourceBytes(
  paths: readonly string[],
  options: PrescanOptions = {},
): Promise<number | undefined> {
  const maxEntries = options.maxEntries ?? 200_000;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.maxMs ?? 10_000);
  let entries = 0;
  let bytes = 0;
  const stack = [...paths];
  while (stack.length > 0) {
    if (++entries > maxEntries || now() > deadline || options.signal?.aborted) return undefined;
    const path = stack.pop() as string;
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue; // vanished or unreadable: borg will warn about it, not us
    if (info.isFile()) bytes += info.size;
    else if (info.isDirectory()) {
      const children = await readdir(path).catch(() => [] as string[]);
      for (const child of children) stack.push(join(path, child));
    }
  }
  return bytes;
}
