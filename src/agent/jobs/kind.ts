/**
 * What the agent knows of one job kind: the borg command its payload becomes (built by
 * src/borg/commands) and how a finished run becomes the kind's result. One module per
 * kind in this folder implements AgentJobKind; index.ts is the registry the executor
 * picks from. Everything else a job needs (policy, borg binary, passphrase, known_hosts,
 * the run itself, exit classification, cancel) is the executor's, the same for every kind.
 */
import type { BorgCommand } from "../../borg/commands/common.ts";
import type { BorgFeatures } from "../../borg/features.ts";
import type { BorgLogEvent } from "../../borg/output.ts";
import type { BorgRunResult } from "../../borg/run.ts";
import type {
  JobKind,
  JobPayloadOf,
  JobResultOf,
  ListingChunk,
  LogEntry,
  ProgressRequest,
} from "../../shared/protocol/agent.ts";

/** Where a running job's log lines and progress go (the loop batches and uploads them). */
export interface JobIo {
  log(stream: LogEntry["stream"], message: string): void;
  progress(report: ProgressRequest): void;
  /**
   * Sends one chunk of an archive listing now (archive.browse), retrying network errors;
   * resolves once the hub stored it, rejects when it refused it or stayed unreachable.
   * Not through the outbox: a listing is a cache the hub can ask for again, and holding
   * millions of entries on disk twice is worse than failing the job.
   */
  uploadListing?(chunk: ListingChunk): Promise<void>;
  /**
   * Sends `bytes` of a downloaded file, starting at `offset`, now (archive.download),
   * retrying network errors; resolves once the hub handed them to the browser, rejects
   * when it refused them (the browser went away) or stayed unreachable. Not through the
   * outbox either: the bytes are for a browser that is waiting now.
   */
  uploadDownload?(offset: number, bytes: Uint8Array): Promise<void>;
}

/** What a kind's watch may use beyond the payload: the job's own borg, clock and cancel. */
export interface JobTools {
  features: BorgFeatures;
  signal: AbortSignal;
  now: () => number;
  /**
   * Runs another borg command for this job before the main one (same binary, environment
   * and cancel), e.g. the listing an extract checks for conflicts. Resolves for every
   * borg failure (see runBorg).
   */
  runBorg(command: BorgCommand, onStdoutLine?: (line: string) => void): Promise<BorgRunResult>;
}

/** A kind's own result fields (per kind, when K is several); return_code and warnings are the executor's. */
export type KindResultFields<K extends JobKind> = K extends unknown
  ? Omit<JobResultOf<K>, "return_code" | "warnings">
  : never;

/** What a finished run gave: the kind's result fields, or why borg's output can't be read. */
export type KindResultRead<K extends JobKind> =
  | { ok: true; fields: KindResultFields<K> }
  | { ok: false; error: string };

/** Hooks of one run, set up before borg starts (see AgentJobKind.watch). */
export interface JobWatch<K extends JobKind = JobKind> {
  /** Sees every borg event first; true when it took the event (no generic handling then). */
  onEvent?(event: BorgLogEvent): boolean;
  /** Every line of borg's stdout as it comes (kinds whose command prints --json-lines). */
  onStdoutLine?(line: string): void;
  /**
   * stdout's raw bytes (kinds whose command writes a file there); borg waits while a
   * returned promise is pending, and a rejection cancels it and fails the job.
   */
  onStdoutChunk?(chunk: Uint8Array): Promise<void>;
  /** borg's working directory. */
  cwd?: string;
  /** Set when the job must fail before the main borg command runs, saying why. */
  refuse?: string;
  /** Instead of `result`, for kinds whose result needs work after borg (an upload). */
  complete?(run: BorgRunResult): Promise<KindResultRead<K>>;
  /** After the result was read, just before it is reported. */
  finished?(): void;
  /** Always, once the job is over, whatever its outcome (temp files go here). */
  cleanup?(): Promise<void>;
}

/**
 * A precheck's finding: `refuse` fails the job with that message; else the run goes on
 * with `payload` (the one received, when absent: backup.create drops missing optional
 * sources), and `warnings` make it end completed_with_warnings, each one also logged.
 */
export interface Precheck<K extends JobKind> {
  refuse?: string;
  payload?: JobPayloadOf<K>;
  warnings?: string[];
}

export interface AgentJobKind<K extends JobKind> {
  /** The borg command for this payload; throws AppError for a value borg must not see. */
  command(features: BorgFeatures, payload: JobPayloadOf<K>): BorgCommand;
  /** Whether the command prints a --json document on stdout that `result` reads. */
  readsJson: boolean;
  /**
   * Optional: what this machine says before borg runs (backup.create: a source path that
   * does not exist). Runs after the policy check, before the passphrase lookup and borg.
   */
  precheck?(payload: JobPayloadOf<K>): Promise<Precheck<K>>;
  /**
   * Optional, for kinds with their own progress (backup.create: a prescan for the total,
   * then borg's archive_progress events). Runs after the policy check, before borg.
   */
  watch?(
    payload: JobPayloadOf<K>,
    io: JobIo,
    now: (() => number) | undefined,
    tools: JobTools,
  ): Promise<JobWatch<K>>;
  /** The result of a run that finished (exit ok or warning). Never throws. */
  result(run: BorgRunResult, payload: JobPayloadOf<K>): KindResultRead<K>;
}
