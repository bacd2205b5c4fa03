/**
 * archive.extract on the agent: restores chosen members of an archive into the payload's
 * destination with `borg extract`, run with the destination as its working directory.
 *
 * Before borg writes anything:
 *   1. the destination is parsed (absolute, one line) and created 0700 when missing
 *      (not for a dry run, which writes nothing);
 *   2. unless `overwrite`, `borg list --json-lines` of the same members counts what will
 *      be restored (files and bytes: the result) and checks each against the destination:
 *      the first member that exists there (other than a directory onto a directory, which
 *      is merged) fails the job, naming it, before borg extract runs. Nothing matching the
 *      paths fails the job too. This costs one more pass over the archive's metadata (borg
 *      reads every item of the archive to match paths, for list as for extract), which an
 *      archive of millions of files makes noticeable: the price of never clobbering.
 *      With `overwrite` there is no such pass; borg extract's own --list and progress
 *      total give the counts. Nor is there when the destination is missing or an empty
 *      directory (a restore into a new folder, the usual case): nothing there can be
 *      replaced, so the precheck runs it as an overwriting restore and borg's own count
 *      stands; a restore that matched nothing then fails after borg, as it would before.
 * Progress: borg's progress_percent events (bytes done of total, the member being
 * written). A dry run (`--dry-run --list`) names the members it would restore.
 */
import { lstatSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { buildExtractCommand } from "../../borg/commands/extract.ts";
import { buildListArchiveCommand } from "../../borg/commands/list-archive.ts";
import { parseListItemLine } from "../../borg/output.ts";
import { MAX_RESTORE_LISTED } from "../../shared/protocol/agent.ts";
import { absolutePathProblem } from "../../shared/protocol/borg-values.ts";
import type { AgentJobKind, JobWatch } from "./kind.ts";

/** What is at `path`: undefined when nothing is there (a dangling symlink is something). */
function existing(path: string): "dir" | "other" | undefined {
  try {
    return lstatSync(path).isDirectory() ? "dir" : "other";
  } catch {
    return undefined;
  }
}

const nothingMatches = (archive: string, paths: readonly string[]) =>
  `nothing in archive "${archive}" matches ${paths.map((p) => `"${p}"`).join(", ") || "the archive"}; nothing was restored`;

/** Whether nothing is at `path`, or an empty directory: a restore there replaces nothing. */
async function nothingThere(path: string): Promise<boolean> {
  const there = existing(path);
  if (there === undefined) return true;
  if (there !== "dir") return false;
  return (await readdir(path).catch(() => ["?"])).length === 0;
}

export const archiveExtract: AgentJobKind<"archive.extract"> = {
  readsJson: false,

  // Into an empty or missing destination nothing can be overwritten: skip the listing pass.
  async precheck(payload) {
    const { restore } = payload;
    if (restore.overwrite || absolutePathProblem(restore.destination)) return {};
    if (!(await nothingThere(restore.destination))) return {};
    return { payload: { ...payload, restore: { ...restore, overwrite: true } } };
  },

  command: (features, { repository, restore }) =>
    buildExtractCommand(features, {
      repo: repository.location,
      archive: restore.archive,
      paths: restore.paths,
      dryRun: restore.dry_run,
      // With overwrite there is no listing beforehand: borg's own --list counts the members.
      list: restore.dry_run || restore.overwrite,
    }),

  async watch({ repository, restore }, io, _now, tools) {
    const problem = absolutePathProblem(restore.destination);
    if (problem) return { refuse: `restore destination ${problem}: ${restore.destination}` };
    if (!restore.dry_run) await mkdir(restore.destination, { recursive: true, mode: 0o700 });

    let files = 0;
    let bytes = 0;
    // Counted from borg extract's own --list and progress when nothing was listed first.
    const counted = restore.overwrite;
    const listed: string[] = [];
    const watchExtract = (): JobWatch<"archive.extract"> => ({
      ...(restore.dry_run ? {} : { cwd: restore.destination }),
      onEvent(event) {
        if (event.type === "log_message" && event.name === "borg.output.list") {
          if (counted) files++;
          if (restore.dry_run && listed.length < MAX_RESTORE_LISTED) listed.push(event.message);
          return true;
        }
        if (event.type !== "progress_percent") return false;
        if (counted && typeof event.total === "number") bytes = Math.max(bytes, event.total);
        if (event.finished || typeof event.current !== "number" || !event.total) return true;
        const info = (event as { info?: unknown }).info;
        const current = Array.isArray(info) && typeof info[0] === "string" ? info[0] : null;
        io.progress({
          progress_percent: Math.min(100, (event.current / event.total) * 100),
          current_file: current,
          phase: restore.dry_run ? "dry run" : "restoring",
        });
        return true;
      },
      async complete() {
        if (files === 0 && restore.paths.length > 0) {
          return { ok: false, error: nothingMatches(restore.archive, restore.paths) };
        }
        return { ok: true, fields: { files, bytes, ...(restore.dry_run ? { listed } : {}) } };
      },
      finished() {
        io.progress({ progress_percent: 100, current_file: null, phase: "done" });
      },
    });
    // Overwriting: nothing to check first, so no second pass over the archive.
    if (restore.overwrite) {
      io.progress({ progress_percent: 0, phase: restore.dry_run ? "dry run" : "restoring" });
      return watchExtract();
    }

    io.progress({ progress_percent: null, phase: "checking what will be restored" });
    let conflict: string | undefined;
    let unreadable: string | undefined;
    const listing = await tools.runBorg(
      buildListArchiveCommand(tools.features, {
        repo: repository.location,
        archive: restore.archive,
        paths: restore.paths,
      }),
      (line) => {
        if (line.trim() === "" || unreadable) return;
        const read = parseListItemLine(line);
        if (!read.ok) {
          unreadable = read.error;
          return;
        }
        files++;
        if (read.item.type !== "d") bytes += read.item.size ?? 0;
        if (conflict !== undefined) return;
        const there = existing(join(restore.destination, read.item.path));
        if (there === undefined || (there === "dir" && read.item.type === "d")) return;
        conflict = read.item.path;
      },
    );
    if (listing.outcome === "canceled") return {};
    if (listing.outcome === "error") {
      return {
        refuse: `listing the archive before restoring failed: ${listing.errorMessage ?? "borg failed"}`,
      };
    }
    if (unreadable) return { refuse: `listing the archive before restoring failed: ${unreadable}` };
    if (files === 0) return { refuse: nothingMatches(restore.archive, restore.paths) };
    if (conflict !== undefined) {
      return {
        refuse: `"${join(restore.destination, conflict)}" already exists; nothing was restored. Restore with overwrite to replace it, or choose another destination`,
      };
    }

    io.progress({ progress_percent: 0, phase: restore.dry_run ? "dry run" : "restoring" });
    return watchExtract();
  },

  result: () => ({ ok: false, error: "the restore's count was not taken" }),
};
