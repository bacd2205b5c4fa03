/**
 * The members of one archive, one JSON object per line: `borg list --json-lines
 * REPO::ARCHIVE [-- PATH…]` (1.x), `borg list --repo=REPO --json-lines -- ARCHIVE [PATH…]`
 * (2.x). Each line is an item (type "d", "-", "l", …, path without a leading "/", size,
 * mtime, mode; see BorgListItem in output.ts). PATHs narrow the listing to those members
 * and everything under them (borg's path-prefix match), as `borg extract` would select them.
 */
import { archiveMemberPath, archivePathProblem } from "../../shared/protocol/borg-values.ts";
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  invalid,
  repoTarget,
} from "./common.ts";

export interface ListArchiveOptions extends CommonOptions {
  repo: string;
  archive: string;
  /** Member paths; none = the whole archive. */
  paths?: readonly string[];
}

/** A member path for argv: parsed, then in borg's spelling (no leading "/"). */
export function checkMemberPath(path: string): string {
  const problem = archivePathProblem(path);
  if (problem) invalid(`archive path ${problem}: ${JSON.stringify(path)}`);
  return archiveMemberPath(path);
}

export function buildListArchiveCommand(
  features: BorgFeatures,
  options: ListArchiveOptions,
): BorgCommand {
  const target = repoTarget(features, options.repo, options.archive);
  const paths = (options.paths ?? []).map(checkMemberPath);
  const args = ["--json-lines", "--log-json", ...target.options, ...commonOptionArgs(options)];
  return { argv: assemble("list", args, [...target.positionals, ...paths]) };
}
