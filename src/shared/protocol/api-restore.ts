/**
 * Restore (API.md "Restore"): browsing an archive's tree from the hub's cache and
 * restoring members onto the machine. Re-exported by api.ts. The values that reach
 * borg (archive, paths, destination) are parsed again by services/restore.ts and the
 * agent with borg-values.ts; these schemas check shape and caps.
 */
import { z } from "zod";
import { Text } from "./common.ts";
import { ARCHIVE_ENTRY_TYPES } from "./jobs/archive-browse.ts";
import { MAX_RESTORE_PATHS } from "./jobs/archive-extract.ts";

export const TreeQuery = z.strictObject({
  /** A directory of the archive, "/" (the default) for its root. */
  path: Text(4096).optional(),
  /** A glob (`*`, `?`, case-insensitive) over names, or over whole paths when it has a "/". */
  q: Text(1024).optional(),
});

/** GET …/archives/{archive}/download: one file of the archive, by its path ("/home/u/a.pdf"). */
export const DownloadQuery = z.strictObject({ path: Text(4096) });

export const ArchiveTreeEntry = z.object({
  name: z.string(),
  type: z.enum(ARCHIVE_ENTRY_TYPES),
  size: z.number().int(),
  mtime: z.string().nullable(),
  mode: z.string().nullable(),
  /** Search answers only: the entry's whole path ("/a/b/c"). */
  path: z.string().optional(),
});
export type ArchiveTreeEntry = z.infer<typeof ArchiveTreeEntry>;

export const ArchiveTree = z.object({
  path: z.string(),
  entries: z.array(ArchiveTreeEntry),
  truncated: z.boolean(),
  /** The largest file …/download streams (the hub's download_max_bytes); 0: none. */
  download_max_bytes: z.number().int().optional(),
});
export type ArchiveTree = z.infer<typeof ArchiveTree>;

export const RestoreRequest = z.strictObject({
  archive: Text(512),
  /** Members of the archive ("/home/u/file" or "home/u/file"); empty = the whole archive. */
  paths: z.array(Text(4096)).max(MAX_RESTORE_PATHS),
  /** An absolute directory on the machine; created 0700 when missing. */
  destination: Text(4096),
  overwrite: z.boolean().optional(),
  dry_run: z.boolean().optional(),
  target_machine_id: z.number().int().positive().optional(),
});
export type RestoreRequest = z.infer<typeof RestoreRequest>;
