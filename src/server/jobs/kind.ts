/**
 * What the hub knows of one job kind: how its payload is built from a repository and a
 * request, whether it runs one at a time per repository, what the job row keeps of its
 * result, and what a finished job of the kind records elsewhere (a backup's outcome on
 * its repository, a list's archives). One module per kind in this folder implements
 * HubJobKind; index.ts is the registry services pick from. The queue, the state
 * machine, redaction, audit and events are the services', the same for every kind.
 */
import type {
  BrowseBlock,
  DownloadBlock,
  JobKind,
  JobPayloadOf,
  JobResultOf,
  PruneBlock,
  RestoreBlock,
} from "../../shared/protocol/agent.ts";
import type { JobRow, RepositoryRow, StoredJobResult } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";

/** What a request may add to a repository's job (the action's body). */
export interface JobOptions {
  /** A plan's backup: its archive names start with the plan's prefix. */
  backup?: { archive_prefix?: string };
  prune?: Omit<PruneBlock, "dry_run"> & { dry_run?: boolean };
  check?: { repository_only: boolean; verify_data: boolean };
  browse?: BrowseBlock;
  restore?: RestoreBlock;
  download?: DownloadBlock;
}

type CommonPayloadKey = "schema_version" | "job_id" | "job_kind" | "repository" | "secrets";
/** A kind's own part of its payload: its block (backup, prune, …), or nothing. */
export type PayloadBlocks<K extends JobKind> = Omit<JobPayloadOf<K>, CommonPayloadKey>;

export interface HubJobKind<K extends JobKind> {
  /** At most one active job of this kind per repository; a second is refused (409). */
  exclusive: boolean;
  /** Checks a request before anything is looked up; throws AppError("validation_failed"). */
  checkRequest?(options: JobOptions): void;
  /** The kind's payload blocks, from the repository and the request. Pure. */
  blocks(repository: RepositoryRow, options: JobOptions): PayloadBlocks<K>;
  /** What the job row keeps of a result read with the kind's schema (warnings are the service's). */
  stored(result: JobResultOf<K>): StoredJobResult;
  /** After a result of this kind landed as completed (with warnings or not). */
  completed?(deps: HubDeps, job: JobRow, result: JobResultOf<K>): Promise<void>;
  /** After any change of status of a job of this kind, whoever caused it. */
  transitioned?(deps: HubDeps, job: JobRow): Promise<void>;
}
