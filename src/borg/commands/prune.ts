/**
 * `borg prune --list`: keep rules → which archives go. Each kept/pruned archive is one
 * INFO log_message of logger "borg.output.list" ("Keeping archive (rule: daily #1): …",
 * "Would prune: …" with dry-run, "Pruning archive (1/2): …"). Space comes back only
 * with compact afterwards (features.compactAfterPrune).
 */
import { KEEP_WITHIN } from "../../shared/protocol/borg-values.ts";
import type { BorgFeatures } from "../features.ts";
import {
  archiveMatchArgs,
  assemble,
  type BorgCommand,
  type CommonOptions,
  checkInteger,
  commonOptionArgs,
  invalid,
  repoTarget,
} from "./common.ts";

export interface PruneOptions extends CommonOptions {
  repo: string;
  /** Keep everything younger than this: a positive integer and one of H d w m y, e.g. "7d". */
  keepWithin?: string;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  dryRun?: boolean;
  /** One log line per kept/pruned archive (`--list`); default true. */
  list?: boolean;
  /** Only archives whose name matches this shell glob. */
  glob?: string;
  /** Only archives whose name starts with this (turned into the glob PREFIX*). */
  prefix?: string;
}

/** The interval units every supported version accepts (1.2.4: H d w m y). */

const KEEP_COUNTS = [
  ["keepLast", "--keep-last"],
  ["keepHourly", "--keep-hourly"],
  ["keepDaily", "--keep-daily"],
  ["keepWeekly", "--keep-weekly"],
  ["keepMonthly", "--keep-monthly"],
  ["keepYearly", "--keep-yearly"],
] as const;

export function buildPruneCommand(features: BorgFeatures, options: PruneOptions): BorgCommand {
  const target = repoTarget(features, options.repo);
  const keep: string[] = [];
  if (options.keepWithin !== undefined) {
    if (!KEEP_WITHIN.test(options.keepWithin)) {
      invalid(`keep-within must look like 7d (units H d w m y), got "${options.keepWithin}"`);
    }
    keep.push(`--keep-within=${options.keepWithin}`);
  }
  for (const [key, flag] of KEEP_COUNTS) {
    const count = options[key];
    if (count === undefined) continue;
    // borg treats 0 as "rule not given"; leave it out so the argv says what happens.
    if (checkInteger(flag.slice(2), count, 0) > 0) keep.push(`${flag}=${count}`);
  }
  // Borg refuses to prune without a rule; saying so here gives the better message.
  if (keep.length === 0) invalid("prune needs at least one keep rule");

  const args = ["--log-json", ...target.options];
  if (options.list ?? true) args.push("--list");
  if (options.dryRun) args.push("--dry-run");
  args.push(...keep);
  args.push(...archiveMatchArgs(features, { glob: options.glob, prefix: options.prefix }));
  args.push(...commonOptionArgs(options));
  return { argv: assemble("prune", args, target.positionals) };
}
