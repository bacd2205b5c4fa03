/**
 * backup.create: `borg create` of the repository's source paths into a new archive. The
 * result carries the archive's name and its stats, read from borg's `--json` output, and
 * the archive as `archive.list` describes one, so the hub's archive list gains it without
 * another borg run.
 */
import { z } from "zod";
import { OneLine } from "../common.ts";
import { ArchiveInfo } from "./archive-list.ts";
import { defineJobKind, MAX_ARCHIVE_NAME_CHARS, Size } from "./common.ts";

/** An agent that skips a missing optional source instead of ignoring the field. */
export const OPTIONAL_SOURCES_CAPABILITY = "backup.optional_sources";

export const BackupBlock = z.object({
  /** A template: borg expands {hostname}, {now}, … itself. */
  archive_name: z.string(),
  source_paths: z.array(z.string()).min(1),
  /**
   * Sources backed up when they exist and skipped with a warning when they don't (a
   * removable disk, a directory only some machines have). Sent only to agents that report
   * OPTIONAL_SOURCES_CAPABILITY: an older agent would ignore the field and silently back
   * up less than the repository says.
   */
  optional_source_paths: z.array(z.string()).optional(),
  exclude_patterns: z.array(z.string()),
  compression: z.string(),
});
export type BackupBlock = z.infer<typeof BackupBlock>;

export const BackupStats = z.object({
  original_size: Size,
  compressed_size: Size,
  deduplicated_size: Size,
  nfiles: Size,
});
export type BackupStats = z.infer<typeof BackupStats>;

export const backupCreate = defineJobKind(
  "backup.create",
  { backup: BackupBlock },
  {
    // Optional on the wire only for agents older than this schema, which reported a
    // backup without them when borg's --json output did not parse; this agent fails
    // such a run instead (src/agent/jobs/backup-create.ts).
    archive_name: OneLine(MAX_ARCHIVE_NAME_CHARS).optional(),
    stats: BackupStats.optional(),
    // Added in protocol 1 without a bump (see version.ts): older agents leave it out and
    // the hub's archive list then waits for the next list job.
    archive: ArchiveInfo.optional(),
  },
);
