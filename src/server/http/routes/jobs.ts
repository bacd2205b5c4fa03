/**
 * /api/jobs, the user's view of the queue: list (newest first), one job, its logs, a
 * live Server-Sent Events stream, cancel (operator). Viewer role reads.
 */
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { JobListQuery, JobLogsQuery } from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import { jobEventStream } from "../../services/job-event-stream.ts";
import { jobJson, jobLogJson } from "../../services/job-json.ts";
import { cancelJob, getJob, jobLogs, listJobs } from "../../services/jobs.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

/** Proxies drop idle connections; a comment line every so often keeps the stream open. */
const KEEP_ALIVE_MS = 15_000;

const EventsQuery = JobLogsQuery.pick({ after_sequence: true });

export function jobRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  const operator = requireUser(deps, "operator");
  const jobId = (value: string | undefined) => idParam(value, "job");

  app.get("/api/jobs", viewer, validate("query", JobListQuery), async (c) => {
    const q = c.req.valid("query");
    const rows = await listJobs(deps, {
      repositoryId: q.repository_id,
      agentMachineId: q.agent_machine_id,
      status: q.status,
      limit: q.limit,
      before: q.before,
    });
    return c.json(rows.map(jobJson));
  });

  app.get("/api/jobs/:id", viewer, async (c) =>
    c.json(jobJson(await getJob(deps, jobId(c.req.param("id"))))),
  );

  /** `next_sequence`: pass it back as `after_sequence` to read the following lines. */
  app.get("/api/jobs/:id/logs", viewer, validate("query", JobLogsQuery), async (c) => {
    const page = await jobLogs(deps, jobId(c.req.param("id")), c.req.valid("query"));
    return c.json({ logs: page.logs.map(jobLogJson), next_sequence: page.nextSequence });
  });

  app.post("/api/jobs/:id/cancel", operator, async (c) => {
    const status = await cancelJob(deps, actorOf(c), jobId(c.req.param("id")));
    return c.json({ status }, 202);
  });

  app.get("/api/jobs/:id/events", viewer, validate("query", EventsQuery), async (c) => {
    const id = jobId(c.req.param("id"));
    await getJob(deps, id); // a missing job is a plain JSON 404, not an empty stream
    const { after_sequence } = c.req.valid("query");
    const requestSignal = c.req.raw.signal;
    return streamSSE(c, async (stream) => {
      const done = new AbortController();
      stream.onAbort(() => done.abort());
      const signal = AbortSignal.any([done.signal, requestSignal]);
      const keepAlive = setInterval(() => {
        void stream.write(": keep-alive\n\n");
      }, KEEP_ALIVE_MS);
      try {
        for await (const item of jobEventStream(deps, id, after_sequence, signal)) {
          await stream.writeSSE({ event: item.event, data: JSON.stringify(item.data) });
        }
      } finally {
        clearInterval(keepAlive);
        done.abort();
      }
    });
  });
}
