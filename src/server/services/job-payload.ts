/**
 * Pure job rules, no I/O: which repository action queues which job kind, the versioned
 * payload a job carries (explicit and immutable: the agent never fetches hub state), how
 * an agent's borg exit code becomes a job status, and redaction of a job's secrets.
 *
 * The stored payload never holds a secret: `secrets` only says where the passphrase
 * lives. The claim answer adds the passphrase, decrypted, for the owning agent only.
 */
import { AppError } from "../../shared/errors.ts";
import { REDACTED } from "../../shared/log.ts";
import {
  JOB_PAYLOAD_SCHEMA_VERSION,
  type JobKind,
  type JobPayload,
  type PruneBlock,
} from "../../shared/protocol/agent.ts";
import type { RepositoryRow } from "../db/records.ts";

/** The action in `POST /api/repositories/{id}/<action>` → the job it queues. */
export const REPOSITORY_ACTIONS = {
  init: "repo.init",
  backup: "backup.create",
  check: "repo.check",
  prune: "repo.prune",
  compact: "repo.compact",
  "break-lock": "repo.break_lock",
  list: "archive.list",
} as const satisfies Record<string, JobKind>;
export type RepositoryAction = keyof typeof REPOSITORY_ACTIONS;

/** Kinds of which a repository may have only one active job at a time. */
export const EXCLUSIVE_JOB_KINDS: ReadonlySet<JobKind> = new Set(["backup.create"]);

export interface JobOptions {
  prune?: Omit<PruneBlock, "dry_run"> & { dry_run?: boolean };
  check?: { repository_only: boolean; verify_data: boolean };
}

const KEEP_RULES = [
  "keep_hourly",
  "keep_daily",
  "keep_weekly",
  "keep_monthly",
  "keep_yearly",
  "keep_within",
] as const;

function pruneBlock(options: JobOptions["prune"]): PruneBlock {
  const prune = options ?? {};
  // borg prune without any keep rule would delete every archive: refuse before queueing.
  if (!KEEP_RULES.some((rule) => prune[rule] !== undefined)) {
    throw new AppError(
      "validation_failed",
      `prune needs at least one of ${KEEP_RULES.join(", ")}; without one it would delete every archive`,
    );
  }
  const block: PruneBlock = { dry_run: prune.dry_run ?? false };
  for (const rule of KEEP_RULES) {
    const value = prune[rule];
    if (value !== undefined) Object.assign(block, { [rule]: value });
  }
  return block;
}

/** The payload stored with a job (secrets: location only). Throws 400 for a bad prune. */
export function buildJobPayload(
  jobId: number,
  kind: JobKind,
  repository: RepositoryRow,
  options: JobOptions = {},
): JobPayload {
  const payload: JobPayload = {
    schema_version: JOB_PAYLOAD_SCHEMA_VERSION,
    job_id: jobId,
    job_kind: kind,
    repository: {
      id: repository.id,
      name: repository.name,
      location: repository.location,
      borg_version: repository.borgVersion,
      encryption: repository.encryption,
      append_only: repository.appendOnly,
      ssh_host_key: repository.sshHostKey,
    },
    secrets: { passphrase_location: repository.passphraseLocation },
  };
  switch (kind) {
    case "backup.create":
      payload.backup = {
        // A template: borg expands {hostname}, {now}, … itself.
        archive_name: repository.archiveName,
        source_paths: [...repository.sourcePaths],
        exclude_patterns: [...repository.excludePatterns],
        compression: repository.compression,
      };
      break;
    case "repo.prune":
      payload.prune = pruneBlock(options.prune);
      break;
    case "repo.check":
      payload.check = options.check ?? { repository_only: false, verify_data: false };
      break;
    case "repo.init":
      payload.init = { encryption: repository.encryption };
      break;
    default:
      break;
  }
  return payload;
}

/** Validates a prune request before anything is queued (same rule as buildJobPayload). */
export const checkPruneRequest = (prune: JobOptions["prune"]): void => {
  pruneBlock(prune);
};

export interface JobOutcome {
  status: "completed" | "completed_with_warnings" | "failed";
  errorMessage: string | null;
}

/**
 * borg's exit code → job status: 0 ok; 1 (legacy warning) and 100–127 (modern specific
 * warnings) completed with warnings; anything else (2, 3–99 errors, 128+ signals,
 * negative) failed.
 */
export function jobOutcome(returnCode: number): JobOutcome {
  if (returnCode === 0) return { status: "completed", errorMessage: null };
  if (returnCode === 1 || (returnCode >= 100 && returnCode <= 127)) {
    return { status: "completed_with_warnings", errorMessage: null };
  }
  return { status: "failed", errorMessage: `borg exited with code ${returnCode}` };
}

/**
 * Replaces every known secret of a job in `text` with "[redacted]" (defence in depth: the
 * agent redacts too). Unlike the logger's Redactor, even a very short passphrase is
 * replaced: a garbled log line is better than a stored secret.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.replaceAll(secret, REDACTED);
  }
  return out;
}
