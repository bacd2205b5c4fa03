/**
 * Restoring members of one archive: `borg extract` into the current directory (the
 * caller runs borg with cwd = the destination; borg has no destination option).
 *   1.x: extract --progress --log-json [--dry-run --list] -- REPO::ARCHIVE [PATH…]
 *   2.x: extract --repo=REPO --progress --log-json [--dry-run --list] -- ARCHIVE [PATH…]
 * `--progress` with `--log-json` gives progress_percent events (current/total bytes,
 * info = [the member being extracted]); `--list` logs each member as a log_message of
 * logger borg.output.list. PATHs select those members and everything under them.
 *
 * One file's bytes on stdout (a download through the hub):
 *   1.x: extract --log-json --stdout -- REPO::ARCHIVE PATH
 *   2.x: extract --repo=REPO --log-json --stdout -- ARCHIVE PATH
 * borg writes the content of every matched file to stdout and nothing else there (its
 * log goes to stderr), so one member path that names a file gives exactly its bytes.
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  repoTarget,
} from "./common.ts";
import { checkMemberPath } from "./list-archive.ts";

export interface ExtractOptions extends CommonOptions {
  repo: string;
  archive: string;
  /** Member paths; none = the whole archive. */
  paths?: readonly string[];
  /** Writes nothing; with `list`, names every member it would restore. */
  dryRun?: boolean;
  /** Log every member (borg.output.list). */
  list?: boolean;
}

export function buildExtractCommand(features: BorgFeatures, options: ExtractOptions): BorgCommand {
  const target = repoTarget(features, options.repo, options.archive);
  const paths = (options.paths ?? []).map(checkMemberPath);
  const args = ["--progress", "--log-json", ...target.options];
  if (options.dryRun) args.push("--dry-run");
  if (options.list) args.push("--list");
  args.push(...commonOptionArgs(options));
  return { argv: assemble("extract", args, [...target.positionals, ...paths]) };
}

export interface ExtractToStdoutOptions extends CommonOptions {
  repo: string;
  archive: string;
  /** One member path, a regular file (the caller checked it in the archive's listing). */
  path: string;
}

export function buildExtractToStdoutCommand(
  features: BorgFeatures,
  options: ExtractToStdoutOptions,
): BorgCommand {
  const target = repoTarget(features, options.repo, options.archive);
  const args = ["--log-json", "--stdout", ...target.options, ...commonOptionArgs(options)];
  return {
    argv: assemble("extract", args, [...target.positionals, checkMemberPath(options.path)]),
  };
}
