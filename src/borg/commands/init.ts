/**
 * Repository creation: `borg init` (1.x), `rcreate` (2.0.0b1–b9), `repo-create` (later 2.x).
 */
import type { BorgFeatures } from "../features.ts";
import {
  assemble,
  type BorgCommand,
  type CommonOptions,
  checkInteger,
  commonOptionArgs,
  invalid,
  repoTarget,
} from "./common.ts";

export interface InitOptions extends CommonOptions {
  repo: string;
  /** One of features.encryptionModes, e.g. "repokey-blake2" (1.x) or "repokey-blake2-chacha20-poly1305" (2.x). */
  encryption: string;
  appendOnly?: boolean;
  /** Bytes; borg refuses quotas under 10 MB (parse_storage_quota in 1.2.4). */
  storageQuotaBytes?: number;
  /** Create missing parent directories of the repository directory. */
  makeParentDirs?: boolean;
}

const MIN_STORAGE_QUOTA_BYTES = 10_000_000;

export function buildInitCommand(features: BorgFeatures, options: InitOptions): BorgCommand {
  if (!features.encryptionModes.includes(options.encryption)) {
    invalid(
      `encryption mode "${options.encryption}" is not one of borg ${features.version.raw}'s: ${features.encryptionModes.join(", ")}`,
    );
  }
  const target = repoTarget(features, options.repo);
  const args = ["--log-json", ...target.options, `--encryption=${options.encryption}`];
  // Append-only is a security property: refuse rather than silently create a normal repo.
  if (options.appendOnly || options.storageQuotaBytes !== undefined) {
    if (!features.appendOnlyAndQuota) {
      invalid(`borg ${features.version.raw} has no append-only or storage-quota repositories`);
    }
  }
  if (options.appendOnly) args.push("--append-only");
  if (options.storageQuotaBytes !== undefined) {
    checkInteger("storage quota", options.storageQuotaBytes, MIN_STORAGE_QUOTA_BYTES);
    args.push(`--storage-quota=${options.storageQuotaBytes}`);
  }
  // Newer borg always creates parents; the flag is only needed (and accepted) before that.
  if (options.makeParentDirs && features.makeParentDirs === "option") {
    args.push("--make-parent-dirs");
  }
  args.push(...commonOptionArgs(options));
  return { argv: assemble(features.repoCreateCommand, args, target.positionals) };
}
