/**
 * The box's in-memory job registry (borgbox semantics): at most `maxJobs` records, the
 * oldest finished evicted first, queued and running ones never; one active job per repo;
 * status queued → running → done | error; exit_code −1 until finished; the last
 * `maxLogLines` log lines kept. Jobs run at most `concurrency` at a time; the rest wait
 * as "queued". The registry knows nothing about borg: a job is a function that gets an
 * AbortSignal and a log sink and returns an exit code.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../shared/errors.ts";
import type { Job, JobKind, JobStatus } from "../shared/protocol/box.ts";

export type { JobKind };
/** A job record is the wire shape borgbox clients decode (protocol/box.ts), nothing more. */
export type BoxJob = Job;

export type JobEvent = { type: "log"; line: string } | { type: "status"; job: BoxJob };

export interface JobContext {
  signal: AbortSignal;
  log(line: string): void;
}

/** What a job's function returns: its exit code, and whether that counts as success. */
export interface JobOutcome {
  exitCode: number;
  ok: boolean;
}

export type JobRunner = (ctx: JobContext) => Promise<JobOutcome>;

interface Entry {
  job: BoxJob;
  run: JobRunner;
  controller: AbortController;
  listeners: Set<(event: JobEvent) => void>;
  finished: Promise<void>;
  finish: () => void;
}

export interface JobRegistryOptions {
  maxJobs?: number;
  maxLogLines?: number;
  concurrency?: number;
  now?: () => Date;
  onFinished?: (job: BoxJob) => void;
}

const ACTIVE: readonly JobStatus[] = ["queued", "running"];
const timestamp = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

export class JobRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Entry[] = [];
  private running = 0;
  private readonly maxJobs: number;
  private readonly maxLogLines: number;
  private readonly concurrency: number;
  private readonly now: () => Date;

  constructor(private readonly options: JobRegistryOptions = {}) {
    this.maxJobs = options.maxJobs ?? 200;
    this.maxLogLines = options.maxLogLines ?? 200;
    this.concurrency = options.concurrency ?? 2;
    this.now = options.now ?? (() => new Date());
  }

  /** Queues a job; throws AppError("conflict") if the repo already has one queued or running. */
  start(repo: string, kind: JobKind, dryRun: boolean, run: JobRunner): BoxJob {
    const active = this.activeFor(repo);
    if (active) {
      throw new AppError(
        "conflict",
        `repo "${repo}" already has a ${active.kind} job (${active.id}) ${active.status}`,
      );
    }
    this.makeRoom();
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const entry: Entry = {
      job: {
        id: `j_${randomBytes(6).toString("hex")}`,
        repo,
        kind,
        status: "queued",
        started_at: "",
        finished_at: "",
        exit_code: -1,
        dry_run: dryRun,
        log_tail: [],
      },
      run,
      controller: new AbortController(),
      listeners: new Set(),
      finished,
      finish,
    };
    this.entries.set(entry.job.id, entry);
    this.waiting.push(entry);
    this.pump();
    return structuredClone(entry.job);
  }

  /** Newest first. */
  list(): BoxJob[] {
    return [...this.entries.values()].reverse().map((e) => structuredClone(e.job));
  }

  get(id: string): BoxJob | undefined {
    const entry = this.entries.get(id);
    return entry ? structuredClone(entry.job) : undefined;
  }

  activeFor(repo: string): BoxJob | undefined {
    for (const entry of this.entries.values()) {
      if (entry.job.repo === repo && ACTIVE.includes(entry.job.status))
        return structuredClone(entry.job);
    }
    return undefined;
  }

  /** Follows a job's log lines and status changes; returns the unsubscribe function. */
  subscribe(id: string, listener: (event: JobEvent) => void): () => void {
    const entry = this.entries.get(id);
    if (!entry) throw new AppError("not_found", `no job ${id}`);
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  /** Resolves when the job has finished (or at once if unknown). */
  async waitFor(id: string): Promise<BoxJob | undefined> {
    await this.entries.get(id)?.finished;
    return this.get(id);
  }

  /** Cancels queued and running jobs (shutdown) and waits for them to end. */
  async stopAll(): Promise<void> {
    for (const entry of this.waiting.splice(0))
      this.complete(entry, { exitCode: -1, ok: false }, "canceled before start");
    const running = [...this.entries.values()].filter((e) => e.job.status === "running");
    for (const entry of running) entry.controller.abort();
    await Promise.all(running.map((e) => e.finished));
  }

  private makeRoom(): void {
    if (this.entries.size < this.maxJobs) return;
    for (const [id, entry] of this.entries) {
      if (!ACTIVE.includes(entry.job.status)) {
        this.entries.delete(id);
        return;
      }
    }
    throw new AppError("conflict", `the box already has ${this.maxJobs} queued or running jobs`);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const entry = this.waiting.shift() as Entry;
      this.running++;
      void this.execute(entry).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async execute(entry: Entry): Promise<void> {
    entry.job.status = "running";
    entry.job.started_at = timestamp(this.now());
    this.emit(entry, { type: "status", job: structuredClone(entry.job) });
    let outcome: JobOutcome;
    let failure: string | undefined;
    try {
      outcome = await entry.run({
        signal: entry.controller.signal,
        log: (line) => this.appendLog(entry, line),
      });
    } catch (error) {
      outcome = { exitCode: -1, ok: false };
      failure = error instanceof Error ? error.message : String(error);
    }
    this.complete(entry, outcome, failure);
  }

  private appendLog(entry: Entry, line: string): void {
    entry.job.log_tail.push(line);
    if (entry.job.log_tail.length > this.maxLogLines) {
      entry.job.log_tail.splice(0, entry.job.log_tail.length - this.maxLogLines);
    }
    this.emit(entry, { type: "log", line });
  }

  private complete(entry: Entry, outcome: JobOutcome, failure?: string): void {
    if (failure) this.appendLog(entry, failure);
    entry.job.status = outcome.ok ? "done" : "error";
    entry.job.exit_code = outcome.exitCode;
    entry.job.finished_at = timestamp(this.now());
    const snapshot = structuredClone(entry.job);
    this.emit(entry, { type: "status", job: snapshot });
    entry.listeners.clear();
    entry.finish();
    this.options.onFinished?.(snapshot);
  }

  private emit(entry: Entry, event: JobEvent): void {
    for (const listener of entry.listeners) listener(event);
  }
}
