/**
 * The agent's upload sender: start, log batches and results reach the hub through the
 * durable outbox, in order, exactly as queued.
 *
 * Lifecycle: enqueue() at any time (fits the item to the protocol's caps, writes it to
 * the outbox, wakes the sender); run() once, until the stop signal or a revocation;
 * wake() when the hub answers again so queued items go now instead of after the backoff;
 * drain(maxMs) waits, bounded, until everything queued so far is delivered.
 * Retries: a network failure keeps the item and retries with capped backoff; a 409/404
 * means the hub will never take it (the job finished or is gone), so it is dropped and the
 * job, if it runs here, is canceled; a refused result becomes the job's failure. An item
 * that no longer reads back is reported as its job's failure and set aside as `.bad`.
 */
import type { Logger } from "../shared/log.ts";
import { backoffDelay } from "./backoff.ts";
import { type HubClient, HubRefused } from "./client.ts";
import {
  InvalidOutboxItem,
  type Outbox,
  type OutboxItem,
  type StoredItem,
  type UnreadableItem,
} from "./outbox.ts";
import { fitOutboxItems } from "./upload-limits.ts";

/** The uploads that end a job. */
export const RESULT_KINDS: readonly string[] = ["complete", "fail", "canceled"];

export const failUpload = (
  jobId: number,
  message: string,
  returnCode: number | null = null,
): OutboxItem => ({
  kind: "fail",
  job_id: jobId,
  body: {
    completed_at: new Date().toISOString(),
    error_message: message,
    return_code: returnCode,
  },
});

export interface UploaderOptions {
  outbox: Outbox;
  client: HubClient;
  log: Logger;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  stopSignal: AbortSignal;
  revoked: () => boolean;
  runningJobId: () => number | undefined;
  /** The hub said the job is canceled, finished or gone: stop it if it runs here. */
  cancel: (jobId: number, why: string) => void;
  /** A failed upload, for the runtime's error handling (revocation, last_error). */
  onError: (error: unknown, what: string) => void;
}

export class Uploader {
  private senderWake: () => void = () => {};
  private readonly idleWaiters: (() => void)[] = [];
  /** Unreadable outbox files already reported, so one that cannot be moved is reported once. */
  private readonly reportedUnreadable = new Set<string>();

  constructor(private readonly o: UploaderOptions) {}

  /**
   * Queues an upload, fitted to the protocol's caps. One the outbox still refuses (a bug
   * here) must not cost the job its result nor crash the loop: a refused result becomes a
   * fail that says why; a refused log batch is dropped with an error line.
   */
  async enqueue(item: OutboxItem): Promise<void> {
    for (const fitted of fitOutboxItems(item)) {
      try {
        await this.o.outbox.append(fitted);
      } catch (error) {
        if (!(error instanceof InvalidOutboxItem)) throw error;
        this.o.log.error("an upload could not be queued", {
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
    this.wake();
  }

  /** Sends now instead of at the next retry (something was queued, or the hub answers again). */
  wake(): void {
    this.senderWake();
  }

  /** One sender, in order, until stopped (or revoked). Waits for wake-ups or retries with backoff. */
  async run(): Promise<void> {
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
      if (this.o.revoked() || this.o.stopSignal.aborted) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        return;
      }
      if (state === "drained") await wake;
      else await Promise.race([this.o.sleep(backoffDelay(attempt++), this.o.stopSignal), wake]);
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
      if (this.o.revoked() || (await this.deliver(item)) === "retry") return "blocked";
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
          if (answer.cancel_requested) this.o.cancel(item.job_id, "the hub asked to cancel");
          break;
        }
        case "logs": {
          const answer = await c.logs(item.job_id, item.body.entries);
          if (answer.cancel_requested) this.o.cancel(item.job_id, "the hub asked to cancel");
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
          await this.enqueue(
            failUpload(
              item.job_id,
              `the job finished, but the hub refused its result (${error.status} ${error.code}): ${error.message}`,
              item.body.result.return_code,
            ),
          );
        }
        this.o.log.warn(`the hub will not take this ${item.kind} upload; dropping it`, {
          job: item.job_id,
          status: error.status,
          code: error.code,
          reason: error.message,
        });
        if (error.status === 409 || error.status === 404) this.o.cancel(item.job_id, error.message);
        return "done";
      }
      this.o.onError(error, `upload ${item.kind}`);
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
    const stillRunning = this.o.runningJobId() === jobId && !RESULT_KINDS.includes(bad.kind ?? "");
    const report = jobId !== undefined && !resultQueued && !stillRunning;
    this.o.log.error("a queued upload cannot be read back; moving it aside", {
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
      this.o.log.info("the unreadable upload is kept for inspection", { name: kept });
    } catch (error) {
      this.o.log.error("could not move an unreadable upload aside", {
        name: bad.id,
        error: (error as Error).message,
      });
    }
  }

  /** Waits (bounded) until everything queued so far is delivered. */
  async drain(maxMs: number): Promise<void> {
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.wake();
    await Promise.race([idle, Bun.sleep(maxMs)]);
  }
}
