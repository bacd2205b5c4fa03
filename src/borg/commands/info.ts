/**
 * Repository facts as JSON (sizes, encryption, cache stats): `borg info REPO` (1.x),
 * `rinfo` / `repo-info` (2.x). Slow on a cold cache: borg syncs its chunk cache first.
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  commonOptionArgs,
  repoTarget,
} from "./common.ts";

export interface InfoOptions extends CommonOptions {
  repo: string;
}

export function buildInfoCommand(features: BorgFeatures, options: InfoOptions): BorgCommand {
  const target = repoTarget(features, options.repo);
  const args = ["--json", "--log-json", ...target.options, ...commonOptionArgs(options)];
  return { argv: assemble(features.repoInfoCommand, args, target.positionals) };
}
