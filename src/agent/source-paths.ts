/**
 * Checks a backup's source paths before borg runs. borg itself only warns about a path
 * that does not exist ("[Errno 2] No such file or directory") and still writes an
 * archive — an empty one when every source is missing — which would look like a
 * protected machine. The agent fails the job instead, naming each missing path.
 * Paths that exist but can't be read are left to borg (it reports them per file).
 */
import { lstat } from "node:fs/promises";

/** The source paths that do not exist on this machine (lstat: a dangling symlink exists). */
export async function missingSourcePaths(paths: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const path of paths) {
    try {
      await lstat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") missing.push(path);
    }
  }
  return missing;
}

/** The failure message for missing sources; undefined when every source exists. */
export function missingSourcesMessage(missing: readonly string[]): string | undefined {
  if (missing.length === 0) return undefined;
  const listed = missing.map((p) => JSON.stringify(p)).join(", ");
  return missing.length === 1
    ? `source path ${listed} does not exist on this machine; nothing was backed up (fix the repository's source paths or create the path)`
    : `source paths ${listed} do not exist on this machine; nothing was backed up (fix the repository's source paths or create the paths)`;
}
