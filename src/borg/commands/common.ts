/**
 * What every argv builder in this folder shares: the BorgCommand shape, input checks
 * that throw AppError("validation_failed"), and the one way argv is assembled.
 *
 * Argv shape, for every subcommand and version:
 *   SUBCOMMAND [options…] [-- POSITIONAL…]
 * Options always use the `--name=value` form, so a value that starts with "-" can never
 * be read as another option. Positionals (repo, REPO::ARCHIVE, archive name, paths)
 * always come after `--`, so a path like "-weird" is a path (checked with 1.2.4 and
 * 2.0.0b5, e.g. `borg create --json -- REPO::NAME /path` and
 * `borg2 create --repo=REPO --json -- NAME /path`).
 */
import { AppError } from "../../shared/errors.ts";
import {
  absolutePathProblem,
  archiveNameProblem,
  compressionProblem,
  parseBorgLocation,
  patternProblem,
} from "../../shared/protocol/borg-values.ts";
import type { BorgFeatures } from "../features.ts";

/** One borg invocation, without the binary: run.ts prepends the borg path. */
export interface BorgCommand {
  argv: string[];
  /** Variables this command needs beyond buildBorgEnv's (they win over it). */
  env?: Record<string, string>;
}

/** Options every repository command accepts. */
export interface CommonOptions {
  /** `--lock-wait`: seconds to wait for a repository/cache lock (borg's default is 1). */
  lockWaitSeconds?: number;
}

export function invalid(message: string): never {
  throw new AppError("validation_failed", message);
}

/** The agent's own check of a location the hub sent: parsed, never trusted as a string. */
export function checkRepo(features: BorgFeatures, repo: string): string {
  const parsed = parseBorgLocation(repo, features.repoArgument === "positional" ? 1 : 2);
  if (!parsed.ok) invalid(`repository location ${parsed.reason}: ${JSON.stringify(repo)}`);
  return repo;
}

export function checkArchiveName(name: string): string {
  const problem = archiveNameProblem(name);
  if (problem) invalid(`archive name ${problem}: ${JSON.stringify(name)}`);
  return name;
}

export function checkPath(path: string): string {
  const problem = absolutePathProblem(path);
  if (problem) invalid(`backup path ${problem}: ${JSON.stringify(path)}`);
  return path;
}

export function checkPattern(what: string, pattern: string): string {
  const problem = patternProblem(pattern);
  if (problem) invalid(`${what} ${problem}`);
  return pattern;
}

export function checkCompression(spec: string): string {
  const problem = compressionProblem(spec);
  if (problem) invalid(`compression ${problem}, got ${JSON.stringify(spec)}`);
  return spec;
}

export function checkInteger(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    invalid(`${what} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

export function commonOptionArgs(options: CommonOptions): string[] {
  if (options.lockWaitSeconds === undefined) return [];
  return [`--lock-wait=${checkInteger("lock wait seconds", options.lockWaitSeconds, 0)}`];
}

/**
 * Where the repository (and archive) go: 1.x takes one positional `REPO` or
 * `REPO::ARCHIVE`; 2.x takes `--repo=REPO` and the archive name as its own positional.
 */
export function repoTarget(
  features: BorgFeatures,
  repo: string,
  archive?: string,
): { options: string[]; positionals: string[] } {
  checkRepo(features, repo);
  if (archive !== undefined) checkArchiveName(archive);
  if (features.repoArgument === "positional") {
    return { options: [], positionals: [archive === undefined ? repo : `${repo}::${archive}`] };
  }
  return { options: [`--repo=${repo}`], positionals: archive === undefined ? [] : [archive] };
}

/** SUBCOMMAND options… [-- positionals…] */
export function assemble(
  subcommand: string,
  options: readonly string[],
  positionals: readonly string[],
): string[] {
  return positionals.length === 0
    ? [subcommand, ...options]
    : [subcommand, ...options, "--", ...positionals];
}

/** Shell glob metacharacters, in borg's 1.x glob and 2.x `sh:` syntax (with `{a,b}`). */
const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Archive selection by glob or by name prefix, as prune/check understand it. A prefix
 * becomes the glob PREFIX* (1.x's `--prefix` is deprecated and 2.x removed it), so it
 * may not contain glob characters itself.
 */
export function archiveMatchArgs(
  features: BorgFeatures,
  match: { glob?: string; prefix?: string },
): string[] {
  if (match.glob !== undefined && match.prefix !== undefined) {
    invalid("give an archive glob or an archive prefix, not both");
  }
  let glob = match.glob;
  if (match.prefix !== undefined) {
    checkPattern("archive prefix", match.prefix);
    if (GLOB_CHARS.test(match.prefix)) {
      invalid(`archive prefix must not contain glob characters: ${match.prefix}`);
    }
    glob = `${match.prefix}*`;
  }
  if (glob === undefined) return [];
  checkPattern("archive glob", glob);
  return features.archiveGlob === "glob-archives"
    ? [`--glob-archives=${glob}`]
    : [`--match-archives=sh:${glob}`];
}
