/**
 * backup.create on the agent: `borg create --json` of the payload's sources, progress
 * from borg's archive_progress events (a percent and ETA when the prescan found a total),
 * and the new archive's name and stats from borg's --json output. A run whose output
 * can't be read fails: a backup is never reported done without its archive. A source
 * path that does not exist fails the job before borg runs (source-paths.ts), instead of
 * an archive "with warnings" that lacks it; a missing optional source is left out of the
 * run, which then ends completed_with_warnings naming it.
 */
import { buildCreateCommand } from "../../borg/commands/create.ts";
import { BorgCreateResult, readJsonResult } from "../../borg/output.ts";
import { estimateSourceBytes } from "../prescan.ts";
import { ProgressTracker } from "../progress.ts";
import { planSources, skippedSourceWarning } from "../source-paths.ts";
import type { AgentJobKind } from "./kind.ts";

export const backupCreate: AgentJobKind<"backup.create"> = {
  readsJson: true,

  async precheck(payload) {
    const { backup } = payload;
    const sources = await planSources(backup.source_paths, backup.optional_source_paths ?? []);
    if (!sources.ok) return { refuse: sources.message };
    // The rest of the run (argv, prescan) sees only the sources that are there.
    return {
      payload: {
        ...payload,
        backup: { ...backup, source_paths: sources.paths, optional_source_paths: [] },
      },
      warnings: sources.skipped.map(skippedSourceWarning),
    };
  },

  command: (features, { repository, backup }) =>
    buildCreateCommand(features, {
      repo: repository.location,
      archive: backup.archive_name,
      paths: backup.source_paths,
      excludes: backup.exclude_patterns,
      compression: backup.compression,
    }),

  async watch({ backup }, io, now) {
    const tracker = new ProgressTracker({ now });
    io.progress({ progress_percent: null, phase: "starting" });
    // The pre-scan runs beside borg rather than before it, so it adds nothing to the
    // backup's time: borg's own start (Python, the repository's lock, its cache) takes
    // longer than a typical scan, so the percent is usually known by borg's first
    // progress event; until then the bar is indeterminate.
    const prescan = new AbortController();
    void estimateSourceBytes(backup.source_paths, { signal: prescan.signal }).then((bytes) => {
      if (!prescan.signal.aborted) tracker.expectTotal(bytes);
    });
    return {
      async cleanup() {
        prescan.abort();
      },
      onEvent(event) {
        if (event.type !== "archive_progress") return false;
        const report = tracker.update(event);
        if (report) io.progress(report);
        return true;
      },
      finished() {
        io.progress({
          ...tracker.current(),
          progress_percent: 100,
          estimated_time_remaining: 0,
          current_file: null,
          phase: "done",
        });
      },
    };
  },

  result(run) {
    const read = readJsonResult(BorgCreateResult, run);
    if (!read.ok) return read;
    const { archive } = read.data;
    return {
      ok: true,
      fields: {
        archive_name: archive.name,
        // As `borg list --json` shows it; 1.x lists `time` equal to `start`.
        archive: {
          id: archive.id,
          name: archive.name,
          ...(archive.start !== undefined ? { start: archive.start, time: archive.start } : {}),
        },
        stats: {
          original_size: archive.stats.original_size,
          // borg 2 reports no compressed size.
          compressed_size: archive.stats.compressed_size ?? 0,
          deduplicated_size: archive.stats.deduplicated_size,
          nfiles: archive.stats.nfiles,
        },
      },
    };
  },
};
