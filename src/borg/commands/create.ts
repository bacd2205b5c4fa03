/**
 * `borg create`: one archive of some paths, with JSON progress on stderr
 * (`--log-json --progress`) and the JSON result on stdout (`--json`). No `--stats`:
 * `--json` already carries the archive stats.
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  checkCompression,
  checkInteger,
  checkPath,
  checkPattern,
  commonOptionArgs,
  invalid,
  repoTarget,
} from "./common.ts";

export interface CreateOptions extends CommonOptions {
  repo: string;
  archive: string;
  paths: string[];
  /** borg exclude patterns (`--exclude=`), e.g. "*.pyc" or "pp:/var/cache". */
  excludes?: string[];
  /** borg compression spec, e.g. "lz4", "zstd,3", "auto,zstd,10". Borg's default when absent. */
  compression?: string;
  oneFileSystem?: boolean;
  /** Skip directories holding a CACHEDIR.TAG. */
  excludeCaches?: boolean;
  /** Seconds between checkpoints; ignored by borg versions without checkpoints (features.checkpoints). */
  checkpointIntervalSeconds?: number;
}

export function buildCreateCommand(features: BorgFeatures, options: CreateOptions): BorgCommand {
  const target = repoTarget(features, options.repo, options.archive);
  if (options.paths.length === 0) invalid("create needs at least one path");
  const paths = options.paths.map(checkPath);
  const args = ["--log-json", "--progress", "--json", ...target.options];
  if (options.compression !== undefined) {
    args.push(`--compression=${checkCompression(options.compression)}`);
  }
  for (const pattern of options.excludes ?? []) {
    args.push(`--exclude=${checkPattern("exclude pattern", pattern)}`);
  }
  if (options.oneFileSystem) args.push("--one-file-system");
  if (options.excludeCaches) args.push("--exclude-caches");
  if (options.checkpointIntervalSeconds !== undefined) {
    checkInteger("checkpoint interval", options.checkpointIntervalSeconds, 1);
    if (features.checkpoints) {
      args.push(`--checkpoint-interval=${options.checkpointIntervalSeconds}`);
    }
  }
  args.push(...commonOptionArgs(options));
  return { argv: assemble("create", args, [...target.positionals, ...paths]) };
}
