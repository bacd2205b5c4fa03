/**
 * The agent's runtime: small, boring, no policy.
 *
 *   heartbeat  every heartbeat_interval_seconds: running job ids out, cancel_job_ids in
 *   poll       long poll → claim → run one job at a time (executor.ts)
 *   uploads    start, log batches and the result go through the durable outbox and are
 *              sent in order by one sender that retries with backoff; progress (only the
 *              newest matters) is sent directly, at most once a second
 *
 * Failure rules: the hub being unreachable never stops a running backup — uploads wait
 * in the outbox; a 401 (revoked or disabled) stops everything with a clear message; a
 * 409/404 for an upload means the hub will never take it (job finished or gone), so it is
 * dropped with a warning. A job that was running when the agent died is reported failed
 * at the next start, so the hub doesn't wait for its lease to expire.
 *
 * Every upload is fitted to the protocol's caps (upload-limits.ts) before it is queued or
 * sent: one over a cap would be refused, and a lost result leaves the hub waiting for an
 * "agent lost". A queued item that no longer reads back is reported as a failure of its
 * job (when its job id can still be read) and moved aside, never skipped forever.
 */
import { hostname } from "node:os";
import type { DetectedBorg } from "../borg/run.ts";
import type { Logger } from "../shared/log.ts";
import {
  type HeartbeatRequest,
  JOB_KINDS,
  type ProgressRequest,
} from "../shared/protocol/agent.ts";
import { PROTOCOL_VERSION } from "../shared/protocol/version.ts";
import { backoffDelay } from "./backoff.ts";
import { AgentRejected, type HubClient, HubRefused, HubUnavailable } from "./client.ts";
import { type ExecutorDeps, executeJob, type JobOutcome } from "./executor.ts";
import { LogBatcher } from "./log-batcher.ts";
import {
  InvalidOutboxItem,
  type Outbox,
  type OutboxItem,
  type StoredItem,
  type UnreadableItem,
} from "./outbox.ts";
import type { AgentPaths } from "./state.ts";
import { fitHeartbeat, fitOutboxItems, fitProgress } from "./upload-limits.ts";

/** Every job kind, plus cooperative cancel and log streaming. */
export const AGENT_CAPABILITIES = [...JOB_KINDS, "backup.cancel", "logs.stream"] as const;

export interface AgentRuntimeOptions {
  agentId: string;
  agentVersion: string;
  client: HubClient;
  outbox: Outbox;
  paths: AgentPaths;
  borgs: readonly DetectedBorg[];
  logger: Logger;
  executor: Omit<ExecutorDeps, "borgs" | "paths">;
  pollWaitSeconds: number;
  heartbeatIntervalSeconds: number;
  sshPublicKey?: string;
  /** How long a running job may go on after a stop request before it is canceled. */
  stopGraceMs?: number;
  currentJob: { read(): Promise<number | undefined>; write(id: number | undefined): Promise<void> };
  /** Also shows progress locally (`agent once` on a terminal). */
  onProgress?: (jobId: number, progress: ProgressRequest) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type RunOutcome = { stopped: "signal" } | { stopped: "revoked"; message: string };

/** The uploads that end a job. */
const RESULT_KINDS: readonly string[] = ["complete", "fail", "canceled"];

const failUpload = (jobId: number, message: string): OutboxItem => ({
  kind: "fail",
  job_id: jobId,
  body: { completed_at: new Date().toISOString(), error_message: message, return_code: null },
});

const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    // An already-aborted signal never fires "abort": without this a stop waits out the sleep.
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export class AgentRuntime {
  private running: { id: number; controller: AbortController } | undefined;
  private lastError: string | null = null;
  private revoked: string | undefined;
  private readonly stop = new AbortController();
  private senderWake: () => void = () => {};
  private readonly idleWaiters: (() => void)[] = [];
  /** Unreadable outbox files already reported, so one that cannot be moved is reported once. */
  private readonly reportedUnreadable = new Set<string>();
  private readonly log: Logger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: AgentRuntimeOptions) {
    this.log = o.logger;
    this.sleep = o.sleep ?? abortableSleep;
  }

  /** The long-lived loop; resolves when stopped by `signal` or by revocation. */
  async run(signal: AbortSignal): Promise<RunOutcome> {
    signal.addEventListener("abort", () => this.stop.abort(), { once: true });
    await this.recoverInterruptedJob();
    const sender = this.runSender();
    const heartbeats = this.runHeartbeats();
    while (!this.stop.signal.aborted) {
      const claimed = await this.pollAndClaim(this.o.pollWaitSeconds);
      if (claimed === "error") await this.sleep(backoffDelay(3), this.stop.signal);
      else if (claimed) await this.runJob(claimed.id, claimed.payload);
    }
    await this.drainOutbox(10_000);
    this.senderWake();
    await Promise.all([sender, heartbeats]);
    return this.revoked ? { stopped: "revoked", message: this.revoked } : { stopped: "signal" };
  }

  /** Polls once (short wait), runs at most one job, delivers everything; returns its outcome. */
  async once(waitSeconds = 5): Promise<JobOutcome | undefined> {
    await this.recoverInterruptedJob();
    const sender = this.runSender();
    await this.heartbeat();
    const claimed = this.revoked ? undefined : await this.pollAndClaim(waitSeconds);
    let outcome: JobOutcome | undefined;
    if (claimed && claimed !== "error") outcome = await this.runJob(claimed.id, claimed.payload);
    await this.drainOutbox(30_000);
    this.stop.abort();
    this.senderWake();
    await sender;
    if (this.revoked) throw new AgentRejected(this.revoked);
    return outcome;
  }

  /** Asks the loop to stop: no new claims; a running job gets `stopGraceMs`, then is canceled. */
  requestStop(): void {
    this.stop.abort();
  }

  private async pollAndClaim(waitSeconds: number) {
    try {
      const { jobs } = await this.o.client.poll(waitSeconds, this.stop.signal);
      const next = jobs[0];
      if (!next || this.stop.signal.aborted) return undefined;
      const { job } = await this.o.client.claim(next.id);
      this.log.info("job claimed", {
        job: job.job_id,
        kind: job.job_kind,
        repository: job.repository.name,
      });
      return { id: job.job_id, payload: job };
    } catch (error) {
      return this.handleError(error, "poll");
    }
  }

  private async runJob(id: number, payload: Parameters<typeof executeJob>[0]): Promise<JobOutcome> {
    const controller = new AbortController();
    this.running = { id, controller };
    await this.o.currentJob.write(id);
    await this.enqueue({
      kind: "start",
      job_id: id,
      body: { started_at: new Date().toISOString() },
    });
    const batcher = new LogBatcher({
      redact: (text) => this.o.logger.redactor.redact(text),
      deliver: (entries) => this.enqueue({ kind: "logs", job_id: id, body: { entries } }),
    });
    const progress = this.progressSender(id, controller);
    // On a stop request the job gets a grace period, then is canceled.
    const onStop = () => {
      const grace = this.o.stopGraceMs ?? 30_000;
      this.log.info(`stopping: job ${id} may run ${Math.round(grace / 1000)} s more`);
      setTimeout(() => controller.abort(), grace).unref?.();
    };
    this.stop.signal.addEventListener("abort", onStop, { once: true });
    let outcome: JobOutcome;
    try {
      outcome = await executeJob(
        payload,
        { log: (stream, message) => batcher.push(stream, message), progress: progress.report },
        controller.signal,
        { ...this.o.executor, borgs: this.o.borgs, paths: this.o.paths },
      );
    } finally {
      this.stop.signal.removeEventListener("abort", onStop);
      progress.close();
      await batcher.flush();
    }
    await this.enqueue({ kind: outcome.kind, job_id: id, body: outcome.body } as OutboxItem);
    await this.o.currentJob.write(undefined);
    this.running = undefined;
    this.log.info("job finished", { job: id, outcome: outcome.kind });
    return outcome;
  }

  /** Sends the newest progress at most once a second; the answer can request a cancel. */
  private progressSender(jobId: number, controller: AbortController) {
    let latest: ProgressRequest | undefined;
    let sending = false;
    const send = async () => {
      if (sending || !latest) return;
      sending = true;
      const report = latest;
      latest = undefined;
      try {
        const answer = await this.o.client.progress(jobId, fitProgress(report));
        if (answer.cancel_requested) this.cancel(jobId, "the hub asked to cancel");
      } catch (error) {
        this.handleError(error, "progress");
      } finally {
        sending = false;
      }
    };
    const timer = setInterval(() => void send(), 1_000);
    return {
      report: (p: ProgressRequest) => {
        latest = p;
        this.o.onProgress?.(jobId, p);
      },
      close: () => {
        clearInterval(timer);
        void send();
      },
      controller,
    };
  }

  private cancel(jobId: number, why: string): void {
    if (this.running?.id === jobId && !this.running.controller.signal.aborted) {
      this.log.info("canceling job", { job: jobId, why });
      this.running.controller.abort();
    }
  }

  private async runHeartbeats(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await this.heartbeat();
      await this.sleep(this.o.heartbeatIntervalSeconds * 1000, this.stop.signal);
    }
  }

  async heartbeat(): Promise<void> {
    const body: HeartbeatRequest = {
      agent_id: this.o.agentId,
      protocol_version: PROTOCOL_VERSION,
      hostname: hostname(),
      agent_version: this.o.agentVersion,
      borg_versions: this.o.borgs.map((b) => ({
        major: b.version.major,
        version: b.version.raw,
        path: b.path,
      })),
      capabilities: [...AGENT_CAPABILITIES],
      running_job_ids: this.running ? [this.running.id] : [],
      last_error: this.lastError,
      ...(this.o.sshPublicKey ? { ssh_public_key: this.o.sshPublicKey } : {}),
    };
    try {
      const answer = await this.o.client.heartbeat(fitHeartbeat(body));
      for (const id of answer.cancel_job_ids) this.cancel(id, "the hub asked to cancel");
      // The hub answers again: send what waited in the outbox now, not after the backoff.
      this.senderWake();
    } catch (error) {
      this.handleError(error, "heartbeat");
    }
  }

  /**
   * Queues an upload, fitted to the protocol's caps. One the outbox still refuses (a bug
   * here) must not cost the job its result nor crash the loop: a refused result becomes a
   * fail that says why; a refused log batch is dropped with an error line.
   */
  private async enqueue(item: OutboxItem): Promise<void> {
    for (const fitted of fitOutboxItems(item)) {
      try {
        await this.o.outbox.append(fitted);
      } catch (error) {
        if (!(error instanceof InvalidOutboxItem)) throw error;
        this.log.error("an upload could not be queued", {
          job: item.job_id,
          kind: item.kind,
          reason: error.message,
        });
        if (RESULT_KINDS.includes(item.kind)) {
          const [fail] = fitOutboxItems(
            failUpload(
              item.job_id,
              `the agent could not queue its result for this job: ${error.message}`,
            ),
          );
          if (fail) await this.o.outbox.append(fail);
        }
      }
    }
    this.senderWake();
  }

  /** One sender, in order, until stopped (or revoked). Waits for wake-ups or retries with backoff. */
  private async runSender(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const wake = new Promise<void>((resolve) => {
        this.senderWake = resolve;
      });
      const state = await this.sendPending();
      if (state === "drained") {
        attempt = 0;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
      if (this.revoked || this.stop.signal.aborted) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        return;
      }
      if (state === "drained") await wake;
      else await Promise.race([this.sleep(backoffDelay(attempt++), this.stop.signal), wake]);
    }
  }

  /** Sends queued items oldest first, stopping at the first that must be retried. */
  private async sendPending(): Promise<"drained" | "blocked"> {
    let { items, unreadable } = await this.o.outbox.pending();
    if (unreadable.length > 0) {
      for (const bad of unreadable) await this.reportUnreadable(bad, items);
      // Picks up the fail uploads just queued, so a drain waits for them too.
      ({ items } = await this.o.outbox.pending());
    }
    for (const { id, item } of items) {
      if (this.revoked || (await this.deliver(item)) === "retry") return "blocked";
      await this.o.outbox.remove(id);
    }
    return "drained";
  }

  private async deliver(item: OutboxItem): Promise<"done" | "retry"> {
    const c = this.o.client;
    try {
      switch (item.kind) {
        case "start": {
          const answer = await c.start(item.job_id, item.body);
          if (answer.cancel_requested) this.cancel(item.job_id, "the hub asked to cancel");
          break;
        }
        case "logs": {
          const answer = await c.logs(item.job_id, item.body.entries);
          if (answer.cancel_requested) this.cancel(item.job_id, "the hub asked to cancel");
          break;
        }
        case "complete":
          await c.complete(item.job_id, item.body);
          break;
        case "fail":
          await c.fail(item.job_id, item.body);
          break;
        case "canceled":
          await c.canceled(item.job_id, item.body);
          break;
      }
      return "done";
    } catch (error) {
      if (error instanceof HubRefused) {
        if (item.kind === "complete" && (error.status === 400 || error.status === 413)) {
          // The result itself was refused (too large, or a field the hub won't take): say
          // so as the job's failure rather than drop it and leave the job "running".
          await this.enqueue({
            kind: "fail",
            job_id: item.job_id,
            body: {
              completed_at: new Date().toISOString(),
              error_message: `the job finished, but the hub refused its result (${error.status} ${error.code}): ${error.message}`,
              return_code: item.body.result.return_code,
            },
          });
        }
        this.log.warn(`the hub will not take this ${item.kind} upload; dropping it`, {
          job: item.job_id,
          status: error.status,
          code: error.code,
          reason: error.message,
        });
        if (error.status === 409 || error.status === 404) this.cancel(item.job_id, error.message);
        return "done";
      }
      this.handleError(error, `upload ${item.kind}`);
      return "retry";
    }
  }

  /**
   * A queued file that no longer reads back (corrupt, or an older agent's format) may hold
   * a job's result; skipping it would leave the hub waiting out the lease and then calling
   * the agent lost. So the job is reported failed with the reason — unless its result is
   * queued readable, or the job still runs here and the file was not its result — and the
   * file is moved aside, kept for inspection, never resent.
   */
  private async reportUnreadable(bad: UnreadableItem, readable: StoredItem[]): Promise<void> {
    if (this.reportedUnreadable.has(bad.id)) return;
    this.reportedUnreadable.add(bad.id);
    const { jobId } = bad;
    const resultQueued = readable.some(
      (q) => q.item.job_id === jobId && RESULT_KINDS.includes(q.item.kind),
    );
    const stillRunning = this.running?.id === jobId && !RESULT_KINDS.includes(bad.kind ?? "");
    const report = jobId !== undefined && !resultQueued && !stillRunning;
    this.log.error("a queued upload cannot be read back; moving it aside", {
      name: bad.id,
      job: jobId,
      kind: bad.kind,
      reason: bad.reason,
      job_reported_failed: report,
    });
    if (jobId !== undefined && report) {
      await this.enqueue(
        failUpload(jobId, `the agent could not read its queued result for this job: ${bad.reason}`),
      );
    }
    try {
      const kept = await this.o.outbox.setAside(bad.id);
      this.log.info("the unreadable upload is kept for inspection", { name: kept });
    } catch (error) {
      this.log.error("could not move an unreadable upload aside", {
        name: bad.id,
        error: (error as Error).message,
      });
    }
  }

  /** Waits (bounded) until everything queued so far is delivered. */
  private async drainOutbox(maxMs: number): Promise<void> {
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.senderWake();
    await Promise.race([idle, Bun.sleep(maxMs)]);
  }

  private handleError(error: unknown, what: string): "error" {
    // A request cut short by our own stop is not a problem worth a line.
    if (this.stop.signal.aborted && error instanceof HubUnavailable) return "error";
    if (error instanceof AgentRejected) {
      if (!this.revoked) this.log.error(error.message);
      this.revoked = error.message;
      this.running?.controller.abort();
      this.stop.abort();
    } else if (error instanceof HubUnavailable) {
      this.lastError = error.message;
      this.log.warn(`${what}: ${error.message}`);
    } else if (error instanceof HubRefused) {
      this.log.warn(`${what}: the hub refused: ${error.message}`, {
        status: error.status,
        code: error.code,
      });
    } else {
      this.lastError = (error as Error).message;
      this.log.error(`${what} failed`, { error: (error as Error).message });
    }
    return "error";
  }

  /** A job that was running when the agent stopped is reported, unless its result is already queued. */
  private async recoverInterruptedJob(): Promise<void> {
    const id = await this.o.currentJob.read();
    if (id === undefined) return;
    const { items: queued } = await this.o.outbox.pending();
    const finished = queued.some((q) => q.item.job_id === id && RESULT_KINDS.includes(q.item.kind));
    if (!finished) {
      await this.enqueue(
        failUpload(
          id,
          "the agent stopped while this job was running (restart or crash); run it again",
        ),
      );
      this.log.warn("reporting a job interrupted by an agent restart", { job: id });
    }
    await this.o.currentJob.write(undefined);
  }
}
