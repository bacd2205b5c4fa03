/**
 * Pure job rules, no I/O, the same for every kind: which repository action queues which
 * job kind, the versioned payload a job carries (explicit and immutable: the agent never
 * fetches hub state) — common fields here, the kind's own blocks from its module in
 * server/jobs —, which status an agent's complete report means, and redaction of a
 * job's secrets.
 *
 * The stored payload never holds a secret: `secrets` only says where the passphrase
 * lives. The claim answer adds the passphrase, decrypted, for the owning agent only.
 */
import { REDACTED } from "../../shared/log.ts";
import {
  JOB_PAYLOAD_SCHEMA_VERSION,
  type JobKind,
  JobPayload,
  type JobPayloadUnion,
} from "../../shared/protocol/agent.ts";
import type { RepositoryRow } from "../db/records.ts";
import { hubJobKind } from "../jobs/index.ts";
import type { JobOptions } from "../jobs/kind.ts";

export type { JobOptions } from "../jobs/kind.ts";

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

/**
 * The payload stored with a job (secrets: location only). Throws 400 for a request the
 * kind refuses (a prune without keep rules). Parsed with the protocol's own schema, so
 * the hub never stores a payload its agents would refuse.
 */
export function buildJobPayload(
  jobId: number,
  kind: JobKind,
  repository: RepositoryRow,
  options: JobOptions = {},
): JobPayloadUnion {
  return JobPayload.parse({
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
      box_id: repository.boxId,
    },
    ...hubJobKind(kind).blocks(repository, options),
    secrets: { passphrase_location: repository.passphraseLocation },
  });
}

/**
 * The status of a job its agent reported complete. The agent classified borg's exit
 * (src/borg/exit.ts, the one exit-code table) and reports only runs that did the work as
 * complete, with borg's warnings when there were any; the hub does not classify codes
 * again. Exit 0 is a clean run; any other code in a complete report is a warning (1, or
 * 100–127 with modern exit codes) and keeps it visible as completed_with_warnings; so do
 * warnings with exit 0 (the agent's own, e.g. an optional source it left out).
 */
export const completedStatus = (result: {
  return_code: number;
  warnings?: readonly string[] | undefined;
}): "completed" | "completed_with_warnings" =>
  result.return_code === 0 && (result.warnings?.length ?? 0) === 0
    ? "completed"
    : "completed_with_warnings";

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
