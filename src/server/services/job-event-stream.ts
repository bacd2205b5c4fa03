/**
 * The live view of one job, as a sequence of events for an SSE route: first `status`
 * (the Job), then the stored log lines after `afterSequence`, then live `progress`,
 * `log` and `status` events as they are published, and `end` once the job is finished.
 *
 * It subscribes BEFORE reading the job and its history, so nothing published in between
 * is lost; a log line seen both in history and live is sent once (by sequence; lines may
 * arrive out of order, so a set, not a high-water mark). Ends when `signal` aborts.
 */
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { HubDeps } from "../deps.ts";
import type { JobEvent } from "./job-events.ts";
import { jobJson, jobLogJson } from "./job-json.ts";

export type JobStreamEvent =
  | { event: "status"; data: ReturnType<typeof jobJson> }
  | { event: "progress"; data: Record<string, unknown> }
  | { event: "log"; data: ReturnType<typeof jobLogJson> }
  | { event: "end"; data: { status: string } };

const HISTORY_PAGE = 1000;

export async function* jobEventStream(
  deps: HubDeps,
  jobId: number,
  afterSequence: number,
  signal: AbortSignal,
): AsyncGenerator<JobStreamEvent> {
  const pending: JobEvent[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = deps.events.subscribe(jobId, (event) => {
    pending.push(event);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    const job = await deps.store.jobs.byId(jobId);
    if (!job) return;
    yield { event: "status", data: jobJson(job) };

    const sent = new Set<number>();
    for (let after = afterSequence; ; ) {
      const page = await deps.store.jobs.logs(jobId, after, HISTORY_PAGE);
      for (const log of page) {
        sent.add(log.sequence);
        yield { event: "log", data: jobLogJson(log) };
      }
      const last = page.at(-1);
      if (!last || page.length < HISTORY_PAGE) break;
      after = last.sequence;
    }
    if (TERMINAL_JOB_STATUSES.includes(job.status)) {
      yield { event: "end", data: { status: job.status } };
      return;
    }

    while (!signal.aborted) {
      const next = pending.shift();
      if (!next) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (next.type === "log") {
        if (next.data.sequence <= afterSequence || sent.has(next.data.sequence)) continue;
        sent.add(next.data.sequence);
        yield { event: "log", data: next.data };
      } else if (next.type === "progress") {
        yield { event: "progress", data: next.data };
      } else {
        // The published status is only a hint: send the job as it is now.
        const current = await deps.store.jobs.byId(jobId);
        if (!current) return;
        yield { event: "status", data: jobJson(current) };
        if (TERMINAL_JOB_STATUSES.includes(current.status)) {
          yield { event: "end", data: { status: current.status } };
          return;
        }
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}
