/**
 * archive.extract: `borg extract` of chosen paths of one archive into `destination` on
 * the machine (borg runs with it as its working directory). Nothing there is replaced
 * unless `overwrite`: the agent lists what it would write first and fails before borg
 * runs, naming the first path that exists. `dry_run` writes nothing and names the
 * files (`borg extract --dry-run --list`). The block is named `restore` because the
 * agent's policy (allowed_restore_roots) reads `restore.destination`.
 */
import { z } from "zod";
import { OneLine, Text } from "../common.ts";
import { MAX_MEMBER_PATH_CHARS } from "./archive-browse.ts";
import { defineJobKind, MAX_ARCHIVE_NAME_CHARS, Size } from "./common.ts";

export const MAX_RESTORE_PATHS = 1000;
/** How many restored (or, for a dry run, would-be restored) paths a result names. */
export const MAX_RESTORE_LISTED = 1000;

export const RestoreBlock = z.object({
  archive: OneLine(MAX_ARCHIVE_NAME_CHARS),
  /** Member paths (borg's spelling, no leading "/"); empty = the whole archive. */
  paths: z.array(Text(MAX_MEMBER_PATH_CHARS)).max(MAX_RESTORE_PATHS),
  /** An absolute directory on the machine; created 0700 when missing. */
  destination: Text(MAX_MEMBER_PATH_CHARS),
  overwrite: z.boolean(),
  dry_run: z.boolean(),
});
export type RestoreBlock = z.infer<typeof RestoreBlock>;

export const archiveExtract = defineJobKind(
  "archive.extract",
  { restore: RestoreBlock },
  {
    /** Files, links and directories restored (would be, for a dry run). */
    files: Size,
    /** Bytes of file content restored (would be). */
    bytes: Size,
    /** The first MAX_RESTORE_LISTED of them, for a dry run. */
    listed: z.array(Text(MAX_MEMBER_PATH_CHARS)).max(MAX_RESTORE_LISTED).optional(),
  },
);
