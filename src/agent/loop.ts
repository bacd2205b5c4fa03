/**
 * The agent's runtime: small, boring, no policy.
 *
 *   heartbeat  every heartbeat_interval_seconds: running job ids out, cancel_job_ids in
 *   poll       long poll → claim → run one job at a time (executor.ts)
 *   uploads    start, log batches and the result go through the durable outbox and are
 *              sent in order by one sender that retries with backoff (uploader.ts);
 *              progress (only the newest matters) is sent directly, at most once a second
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
  OPTIONAL_SOURCES_CAPABILITY,
  PLAN_PRUNE_CAPABILITY,
  type ProgressRequest,
} from "../shared/protocol/agent.ts";
import { PROTOCOL_VERSION } from "../shared/protocol/version.ts";
import { backoffDelay } from "./backoff.ts";
import { AgentRejected, type HubClient, HubRefused, HubUnavailable } from "./client.ts";
import { type ExecutorDeps, executeJob, type JobOutcome } from "./executor.ts";
import { LogBatcher } from "./log-batcher.ts";
import type { Outbox, OutboxItem } from "./outbox.ts";
import type { AgentPaths } from "./state.ts";
import { fitHeartbeat, fitProgress } from "./upload-limits.ts";
import { failUpload, RESULT_KINDS, Uploader } from "./uploader.ts";

/** How often one listing or download chunk is tried while the hub is unreachable. */
const DIRECT_UPLOAD_ATTEMPTS = 8;

/** Every job kind, plus cooperative cancel and log streaming. */
export const AGENT_CAPABILITIES = [
  ...JOB_KINDS,
  "backup.cancel",
  "logs.stream",
  PLAN_PRUNE_CAPABILITY,
  OPTIONAL_SOURCES_CAPABILITY,
] as const;

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
  private readonly log: Logger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly uploads: Uploader;

  constructor(private readonly o: AgentRuntimeOptions) {
    this.log = o.logger;
    this.sleep = o.sleep ?? abortableSleep;
    this.uploads = new Uploader({
      outbox: o.outbox,
      client: o.client,
      log: o.logger,
      sleep: this.sleep,
      stopSignal: this.stop.signal,
      revoked: () => this.revoked !== undefined,
      runningJobId: () => this.running?.id,
      cancel: (jobId, why) => this.cancel(jobId, why),
      onError: (error, what) => this.handleError(error, what),
    });
  }

  /** The long-lived loop; resolves when stopped by `signal` or by revocation. */
  async run(signal: AbortSignal): Promise<RunOutcome> {
    signal.addEventListener("abort", () => this.stop.abort(), { once: true });
    await this.recoverInterruptedJob();
    const sender = this.uploads.run();
    const heartbeats = this.runHeartbeats();
    while (!this.stop.signal.aborted) {
      const claimed = await this.pollAndClaim(this.o.pollWaitSeconds);
      if (claimed === "error") await this.sleep(backoffDelay(3), this.stop.signal);
      else if (claimed) await this.runJob(claimed.id, claimed.payload);
    }
    await this.uploads.drain(10_000);
    this.uploads.wake();
    await Promise.all([sender, heartbeats]);
    return this.revoked ? { stopped: "revoked", message: this.revoked } : { stopped: "signal" };
  }

  /** Polls once (short wait), runs at most one job, delivers everything; returns its outcome. */
  async once(waitSeconds = 5): Promise<JobOutcome | undefined> {
    await this.recoverInterruptedJob();
    const sender = this.uploads.run();
    await this.heartbeat();
    const claimed = this.revoked ? undefined : await this.pollAndClaim(waitSeconds);
    let outcome: JobOutcome | undefined;
    if (claimed && claimed !== "error") outcome = await this.runJob(claimed.id, claimed.payload);
    await this.uploads.drain(30_000);
    this.stop.abort();
    this.uploads.wake();
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
    await this.uploads.enqueue({
      kind: "start",
      job_id: id,
      body: { started_at: new Date().toISOString() },
    });
    const batcher = new LogBatcher({
      redact: (text) => this.o.logger.redactor.redact(text),
      deliver: (entries) => this.uploads.enqueue({ kind: "logs", job_id: id, body: { entries } }),
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
        {
          log: (stream, message) => batcher.push(stream, message),
          progress: progress.report,
          uploadListing: (chunk) =>
            this.sendNow(id, "listing upload", controller, () => this.o.client.listing(id, chunk)),
          uploadDownload: (offset, bytes) =>
            this.sendNow(id, "download upload", controller, () =>
              this.o.client.download(id, offset, bytes),
            ),
        },
        controller.signal,
        { ...this.o.executor, borgs: this.o.borgs, paths: this.o.paths },
      );
    } finally {
      this.stop.signal.removeEventListener("abort", onStop);
      progress.close();
      await batcher.flush();
    }
    await this.uploads.enqueue({
      kind: outcome.kind,
      job_id: id,
      body: outcome.body,
    } as OutboxItem);
    await this.o.currentJob.write(undefined);
    this.running = undefined;
    this.log.info("job finished", { job: id, outcome: outcome.kind });
    return outcome;
  }

  /**
   * One upload that can't wait in the outbox (a listing or download chunk), sent now:
   * retried with backoff while the hub is unreachable (up to DIRECT_UPLOAD_ATTEMPTS),
   * given up on at once when it refuses. The answer can request a cancel, like progress.
   */
  private async sendNow(
    jobId: number,
    what: string,
    controller: AbortController,
    send: () => Promise<{ cancel_requested: boolean }>,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await send();
        if (answer.cancel_requested) this.cancel(jobId, "the hub asked to cancel");
        return;
      } catch (error) {
        if (!(error instanceof HubUnavailable) || attempt + 1 >= DIRECT_UPLOAD_ATTEMPTS)
          throw error;
        this.handleError(error, what);
        await this.sleep(backoffDelay(attempt), controller.signal);
        if (controller.signal.aborted) throw new Error("canceled");
      }
    }
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
      this.uploads.wake();
    } catch (error) {
      this.handleError(error, "heartbeat");
    }
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
      await this.uploads.enqueue(
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
