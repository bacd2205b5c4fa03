/**
 * The archives of a repository as JSON: `borg list REPO` (1.x), `rlist` / `repo-list` (2.x).
 *
 * `--format` is passed because with `--json` borg adds the keys named in the format to
 * each archive: hostname, username, comment and end are otherwise missing (checked
 * with 1.2.4 and 2.0.0b5; see test/fixtures/borg/<version>/list.stdout).
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  repoTarget,
} from "./common.ts";

export interface ListOptions extends CommonOptions {
  repo: string;
  /** Include `NAME.checkpoint` archives of interrupted creates (where the version has them). */
  considerCheckpoints?: boolean;
}

export const LIST_JSON_FORMAT = "{hostname}{username}{comment}{end}";

export function buildListCommand(features: BorgFeatures, options: ListOptions): BorgCommand {
  const target = repoTarget(features, options.repo);
  const args = ["--json", "--log-json", `--format=${LIST_JSON_FORMAT}`, ...target.options];
  // Versions without checkpoints have none to show: leaving the flag out changes nothing.
  if (options.considerCheckpoints && features.checkpoints) args.push("--consider-checkpoints");
  args.push(...commonOptionArgs(options));
  return { argv: assemble(features.repoListCommand, args, target.positionals) };
}
