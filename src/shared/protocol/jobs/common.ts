/**
 * What every job kind shares on the wire: the common payload fields (schema_version,
 * job_id, repository, secrets), the common result fields (return_code, warnings), and
 * `defineJobKind`, which puts a kind's own payload blocks and result fields next to them.
 * One file per kind in this folder uses it; index.ts lists the kinds; agent.ts builds
 * the payload union from that list.
 *
 * Payloads and kind results are plain (non-strict) objects: a newer peer's extra field
 * is dropped, not refused, so hub and agent of different versions keep talking.
 */
import { z } from "zod";
import { Text } from "../common.ts";

export const JOB_PAYLOAD_SCHEMA_VERSION = 1;

/** Caps on result text the agent uploads (see agent.ts for the rest and why). */
export const MAX_WARNING_CHARS = 4096;
export const MAX_WARNINGS = 100;
export const MAX_ARCHIVE_NAME_CHARS = 512;
export const MAX_ARCHIVES = 100_000;

/**
 * How a job's error starts when borg did the work but its result could not be read from
 * borg's output (agent) or from the agent's report (hub): such a job fails, it is never
 * recorded as done with an empty result.
 */
export const UNREADABLE_OUTPUT = "borg finished but its output could not be read";

export const Size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const RepositoryRef = z.object({
  id: z.number().int(),
  name: z.string(),
  /** Any borg repo URL or path, as seen from the agent. */
  location: z.string(),
  borg_version: z.union([z.literal(1), z.literal(2)]),
  encryption: z.string(),
  append_only: z.boolean(),
  /** Pinned host key line for ssh:// locations (known_hosts format), if the hub knows it. */
  ssh_host_key: z.string().nullable(),
  /**
   * The storage box the repository lives on (its host keys are what ssh_host_key pins);
   * absent from older hubs and null for a custom location. Lets the agent say that a
   * host key mismatch is the box's.
   */
  box_id: z.number().int().nullable().optional(),
});
export type RepositoryRef = z.infer<typeof RepositoryRef>;

export const JobSecrets = z.object({
  /** "agent": the agent holds the passphrase itself (borgctl agent secret set). */
  passphrase_location: z.enum(["hub", "agent"]),
  passphrase: z.string().optional(),
});
export type JobSecrets = z.infer<typeof JobSecrets>;

/** The fields every job result has: borg's exit code, and its warnings when it had any. */
export const JOB_RESULT_FIELDS = {
  return_code: z.number().int(),
  warnings: z.array(Text(MAX_WARNING_CHARS)).max(MAX_WARNINGS).optional(),
};

/**
 * One job kind's wire contract: its payload (the common fields, `job_kind` fixed to
 * `kind`, and the kind's own blocks) and its result (return_code, warnings and the kind's
 * own fields). `blocks` and `result` are zod shapes.
 */
export function defineJobKind<
  const Kind extends string,
  Blocks extends z.ZodRawShape,
  Result extends z.ZodRawShape,
>(kind: Kind, blocks: Blocks, result: Result) {
  return {
    kind,
    payload: z.object({
      schema_version: z.literal(JOB_PAYLOAD_SCHEMA_VERSION),
      job_id: z.number().int(),
      job_kind: z.literal(kind),
      repository: RepositoryRef,
      ...blocks,
      secrets: JobSecrets,
    }),
    result: z.object({ ...JOB_RESULT_FIELDS, ...result }),
  };
}
