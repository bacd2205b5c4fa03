/**
 * What the detected borg version can do and how it wants to be called: the one table
 * that every argv builder in commands/ consults instead of testing versions itself.
 *
 * What was checked, and how:
 * - 1.2.4 (Debian bookworm `borgbackup`): every row, by running the binary (argv forms,
 *   `--` before positionals, encryption modes, JSON shapes, exit codes).
 * - 2.0.0b5 (Debian bookworm `borgbackup2`, unpacked and run): rcreate/rlist/rinfo,
 *   `--repo=REPO`, `--match-archives=sh:GLOB`, `--consider-checkpoints`,
 *   `--checkpoint-interval`, `--make-parent-dirs`, `--append-only`, `--storage-quota`,
 *   its encryption modes, progress without compressed sizes.
 * - Everything else comes from BORG.md and borg's 2.x changelog, NOT from a binary:
 *   1.4's opt-in BORG_EXIT_CODES=modern; 2.0.0b8 opt-in and b9 default modern exit codes;
 *   b10 renamed r* commands to repo-* and replaced segment files by borgstore (no
 *   transactions, hence no checkpoint archives; append-only and quota went away, the
 *   b16 changelog removes their "remainders"); b15 removed `--make-parent-dirs`
 *   because borgstore creates parents itself.
 */
import type { BorgVersion } from "./version.ts";
import { borg2BetaNumber, isAtLeast } from "./version.ts";

export interface BorgFeatures {
  readonly version: BorgVersion;
  /** borgctl runs borg 1.2+ and 2.x; 1.0/1.1 lack `compact` and are past end of life. */
  readonly supported: boolean;
  readonly repoCreateCommand: "init" | "rcreate" | "repo-create";
  readonly repoListCommand: "list" | "rlist" | "repo-list";
  readonly repoInfoCommand: "info" | "rinfo" | "repo-info";
  /** 1.x: positional `REPO` / `REPO::ARCHIVE`; 2.x: `--repo=REPO` and the archive name apart. */
  readonly repoArgument: "positional" | "option";
  /** How prune/check select archives by glob: 1.x and 2.0.0b1–b4 `--glob-archives=GLOB`, later `--match-archives=sh:GLOB`. */
  readonly archiveGlob: "glob-archives" | "match-archives-sh";
  /** Prune (and delete) only mark space free; `compact` gives it back (1.2+ and 2.x). */
  readonly compactAfterPrune: boolean;
  /** `archive_progress` and `create --json` carry compressed_size (1.x only). */
  readonly createProgressHasCompressedSizes: boolean;
  /**
   * Specific exit codes (3–99 errors, 100–127 warnings): "opt-in" via BORG_EXIT_CODES=modern
   * (1.4+, 2.0.0b8), "default" (2.0.0b9+). exit.ts classifies both kinds either way.
   */
  readonly modernExitCodes: "none" | "opt-in" | "default";
  /** Checkpoint archives exist: `--checkpoint-interval` on create, `--consider-checkpoints` on list. */
  readonly checkpoints: boolean;
  /** "option": init needs `--make-parent-dirs`; "automatic": borg always creates parents. */
  readonly makeParentDirs: "option" | "automatic";
  /** `--append-only` and `--storage-quota` on repo creation. */
  readonly appendOnlyAndQuota: boolean;
  /** Accepted `--encryption` modes of repo creation (the `borg init --help` choices). */
  readonly encryptionModes: readonly string[];
}

const BORG1_ENCRYPTION_MODES = [
  "none",
  "keyfile",
  "repokey",
  "authenticated",
  "keyfile-blake2",
  "repokey-blake2",
  "authenticated-blake2",
] as const;

const BORG2_ENCRYPTION_MODES = [
  "none",
  "authenticated",
  "authenticated-blake2",
  "keyfile-aes-ocb",
  "repokey-aes-ocb",
  "keyfile-chacha20-poly1305",
  "repokey-chacha20-poly1305",
  "keyfile-blake2-aes-ocb",
  "repokey-blake2-aes-ocb",
  "keyfile-blake2-chacha20-poly1305",
  "repokey-blake2-chacha20-poly1305",
] as const;

/** Sentinel for "2.0.0 final, its release candidates and any later 2.x": after every beta. */
const AFTER_ALL_BETAS = Number.POSITIVE_INFINITY;

export function featuresFor(version: BorgVersion): BorgFeatures {
  if (version.major === 1) return borg1Features(version);
  return borg2Features(version, borg2BetaNumber(version) ?? AFTER_ALL_BETAS);
}

function borg1Features(version: BorgVersion): BorgFeatures {
  return {
    version,
    supported: isAtLeast(version, 1, 2),
    repoCreateCommand: "init",
    repoListCommand: "list",
    repoInfoCommand: "info",
    repoArgument: "positional",
    archiveGlob: "glob-archives",
    compactAfterPrune: isAtLeast(version, 1, 2),
    createProgressHasCompressedSizes: true,
    modernExitCodes: isAtLeast(version, 1, 4) ? "opt-in" : "none",
    checkpoints: true,
    makeParentDirs: "option",
    appendOnlyAndQuota: true,
    encryptionModes: BORG1_ENCRYPTION_MODES,
  };
}

function borg2Features(version: BorgVersion, beta: number): BorgFeatures {
  const borgstore = beta >= 10;
  return {
    version,
    supported: true,
    repoCreateCommand: borgstore ? "repo-create" : "rcreate",
    repoListCommand: borgstore ? "repo-list" : "rlist",
    repoInfoCommand: borgstore ? "repo-info" : "rinfo",
    repoArgument: "option",
    archiveGlob: beta >= 5 ? "match-archives-sh" : "glob-archives",
    compactAfterPrune: true,
    createProgressHasCompressedSizes: false,
    modernExitCodes: beta >= 9 ? "default" : beta >= 8 ? "opt-in" : "none",
    checkpoints: !borgstore,
    makeParentDirs: beta >= 15 ? "automatic" : "option",
    appendOnlyAndQuota: !borgstore,
    encryptionModes: BORG2_ENCRYPTION_MODES,
  };
}
