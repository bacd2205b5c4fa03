/**
 * `borg check`, with `progress_percent` lines on stderr. `--repository-only` needs no
 * passphrase (box-side maintenance); the archive part and `--verify-data` do.
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  invalid,
  repoTarget,
} from "./common.ts";

export interface CheckOptions extends CommonOptions {
  repo: string;
  repositoryOnly?: boolean;
  archivesOnly?: boolean;
  /** Decrypt and verify every chunk: slow, reads all data. */
  verifyData?: boolean;
  /** Try to fix what is found. Borg asks for confirmation, answered by the env below. */
  repair?: boolean;
}

export function buildCheckCommand(features: BorgFeatures, options: CheckOptions): BorgCommand {
  if (options.repositoryOnly && options.archivesOnly) {
    invalid("check: repository-only and archives-only exclude each other");
  }
  // borg refuses this combination: verifying data is part of the archives check.
  if (options.repositoryOnly && options.verifyData) {
    invalid("check: verify-data needs the archives check, not repository-only");
  }
  const target = repoTarget(features, options.repo);
  const args = ["--log-json", "--progress", ...target.options];
  if (options.repositoryOnly) args.push("--repository-only");
  if (options.archivesOnly) args.push("--archives-only");
  if (options.verifyData) args.push("--verify-data");
  if (options.repair) args.push("--repair");
  args.push(...commonOptionArgs(options));
  const argv = assemble("check", args, target.positionals);
  // Without this, borg prompts "Type 'YES' if you understand this" and, with stdin
  // closed, aborts with rc 2 (test/fixtures/borg/1.2.4/check-repair-refused.*).
  return options.repair ? { argv, env: { BORG_CHECK_I_KNOW_WHAT_I_AM_DOING: "YES" } } : { argv };
}
