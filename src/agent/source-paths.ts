/**
 * Checks a backup's source paths before borg runs. borg itself only warns about a path
 * that does not exist ("[Errno 2] No such file or directory") and still writes an
 * archive — an empty one when every source is missing — which would look like a
 * protected machine. The agent fails the job instead, naming each missing path.
 * Paths that exist but can't be read are left to borg (it reports them per file).
 * An optional source (the repository's optional_source_paths) that does not exist is
 * left out of borg's argv with a warning instead; a run left with no source at all fails.
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

/** What a backup's sources come to on this machine: why not to run, or what to back up. */
export type SourcePlan =
  | { ok: false; message: string }
  | { ok: true; paths: string[]; skipped: string[] };

/**
 * Required sources must all exist; optional ones that don't are skipped. A path listed as
 * both counts as required. No source left (every one missing) fails: an empty archive
 * would look like a protected machine.
 */
export async function planSources(
  required: readonly string[],
  optional: readonly string[],
): Promise<SourcePlan> {
  const missingRequired = await missingSourcePaths(required);
  const message = missingSourcesMessage(missingRequired);
  if (message) return { ok: false, message };
  const requiredSet = new Set(required);
  const optionalOnly = [...new Set(optional)].filter((p) => !requiredSet.has(p));
  const skipped = await missingSourcePaths(optionalOnly);
  const paths = [...required, ...optionalOnly.filter((p) => !skipped.includes(p))];
  if (paths.length === 0) {
    return {
      ok: false,
      message: `none of the optional source paths ${skipped.map((p) => JSON.stringify(p)).join(", ")} exists on this machine; nothing was backed up`,
    };
  }
  return { ok: true, paths, skipped };
}

/** The warning for an optional source left out of the backup. */
export const skippedSourceWarning = (path: string): string =>
  `optional source path ${JSON.stringify(path)} does not exist on this machine; it was left out of this backup`;
