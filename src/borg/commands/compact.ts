/**
 * `borg compact`: gives back the space prune/delete freed. 1.x works without the
 * passphrase (box-side maintenance); 2.x from b10 on needs the key.
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  repoTarget,
} from "./common.ts";

export interface CompactOptions extends CommonOptions {
  repo: string;
}

export function buildCompactCommand(features: BorgFeatures, options: CompactOptions): BorgCommand {
  const target = repoTarget(features, options.repo);
  const args = ["--log-json", "--progress", ...target.options, ...commonOptionArgs(options)];
  return { argv: assemble("compact", args, target.positionals) };
}
