/**
 * The agent runtime's job routes, /api/agents/jobs… (lifecycle in protocol/agent.ts):
 * long poll, claim, start, progress, logs, listing (archive.browse), download (archive.download's
 * bytes, application/octet-stream), complete/fail/canceled
 * (alias /cancel), and the agent-scoped status read. Borg UI's agent gets its poll answer
 * and has its logs and results translated by borg-ui-agent.ts; every other agent speaks
 * the protocol as written. Every route needs the agent credential and acts only on the caller's own
 * jobs; another agent's job id answers 404. After a terminal report, every further
 * upload for the job answers 409 (lease_lost when the hub gave up on the agent).
 */
import type { Hono } from "hono";
import { AppError } from "../../../shared/errors.ts";
import {
  AGENT_AUTH_HEADER,
  AGENT_PROTOCOL_HEADER,
  CanceledRequest,
  CompleteRequest,
  DownloadChunkQuery,
  FailRequest,
  ListingChunk,
  LogsRequest,
  PollQuery,
  ProgressRequest,
  StartRequest,
} from "../../../shared/protocol/agent.ts";
import type { JobRow } from "../../db/records.ts";
import type { HubDeps } from "../../deps.ts";
import { storeListingChunk } from "../../services/archive-browse.ts";
import { storeDownloadChunk } from "../../services/archive-download.ts";
import {
  agentJob,
  appendJobLogs,
  claimJob,
  completeJob,
  failJob,
  polledJobJson,
  polledPassphrase,
  pollJobs,
  recordJobProgress,
  reportJobCanceled,
  startJob,
} from "../../services/job-runtime.ts";
import { agentActorOf } from "../actor.ts";
import { requireAgent } from "../agent-auth.ts";
import { borgUiPolledJob, borgUiUpload } from "../borg-ui-agent.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

const BASE = "/api/agents/jobs";

/** Marks a download chunk one replica handed on to another: never handed on again. */
const HANDED_ON_HEADER = "x-borgctl-handed-on";
/** As long as the agent waits for the answer (agent/client.ts DOWNLOAD_WAIT_MS). */
const HAND_ON_TIMEOUT_MS = 5 * 60_000;

/**
 * The agent's download chunk, sent on to the replica that holds its browser (at that
 * replica's replica_url), with the agent's own credential: that replica checks it as if
 * the agent had come straight to it. Its answer is passed back unchanged.
 */
async function handOn(replicaUrl: string, request: Request, bytes: Uint8Array) {
  const incoming = new URL(request.url);
  const headers = new Headers({
    "content-type": "application/octet-stream",
    [HANDED_ON_HEADER]: "1",
  });
  for (const name of [AGENT_AUTH_HEADER, AGENT_PROTOCOL_HEADER]) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  let answer: Response;
  try {
    answer = await fetch(new URL(`${incoming.pathname}${incoming.search}`, replicaUrl), {
      method: "POST",
      headers,
      body: bytes as BodyInit,
      signal: AbortSignal.timeout(HAND_ON_TIMEOUT_MS),
    });
  } catch (error) {
    throw new AppError(
      "unavailable",
      `the hub replica holding this download (${replicaUrl}) is unreachable: ${(error as Error).message}`,
    );
  }
  return new Response(await answer.arrayBuffer(), {
    status: answer.status,
    headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
  });
}

/** UploadResponse: every answer says whether the user asked to cancel. */
const uploadJson = (job: JobRow) => ({
  status: job.status,
  cancel_requested: job.status === "cancel_requested",
});

/** AgentJobStatus: what GET /jobs/{id} tells the agent about its own job. */
const agentJobStatusJson = (job: JobRow) => ({ id: job.id, ...uploadJson(job) });

export function agentJobRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const agent = requireAgent(deps);
  const jobId = (value: string | undefined) => idParam(value, "job");

  // Registered before /:id so "poll" is never read as a job id.
  app.get(`${BASE}/poll`, agent, validate("query", PollQuery), async (c) => {
    const { limit, wait } = c.req.valid("query");
    const actor = agentActorOf(c);
    // Only a poll that may wait needs to know the request went away: reading the signal
    // makes Bun create it, and an empty poll has no use for it.
    const signal = wait > 0 ? c.req.raw.signal : undefined;
    const jobs = await pollJobs(deps, actor, { limit, waitMs: wait * 1000 }, signal);
    if (c.get("agent").dialect === "borg-ui") {
      // Borg UI's agent runs the polled payload, passphrase included (borg-ui-agent.ts).
      const answer = [];
      for (const job of jobs) {
        answer.push(borgUiPolledJob(job, await polledPassphrase(deps, actor, job)));
      }
      return c.json({ jobs: answer });
    }
    return c.json({ jobs: jobs.map(polledJobJson) });
  });

  app.get(`${BASE}/:id`, agent, async (c) =>
    c.json(agentJobStatusJson(await agentJob(deps, agentActorOf(c), jobId(c.req.param("id"))))),
  );

  app.post(`${BASE}/:id/claim`, agent, async (c) => {
    const payload = await claimJob(deps, agentActorOf(c), jobId(c.req.param("id")));
    return c.json({ status: "claimed", job: payload });
  });

  // started_at from the agent is not trusted: the hub's clock orders everything.
  app.post(`${BASE}/:id/start`, agent, validate("json", StartRequest), async (c) =>
    c.json(uploadJson(await startJob(deps, agentActorOf(c), jobId(c.req.param("id"))))),
  );

  app.post(`${BASE}/:id/progress`, agent, validate("json", ProgressRequest), async (c) =>
    c.json(
      uploadJson(
        await recordJobProgress(
          deps,
          agentActorOf(c),
          jobId(c.req.param("id")),
          c.req.valid("json"),
        ),
      ),
    ),
  );

  const borgUiLogs = borgUiUpload("logs");
  app.post(`${BASE}/:id/logs`, agent, borgUiLogs, validate("json", LogsRequest), async (c) => {
    const body = c.req.valid("json");
    const entries = "entries" in body ? body.entries : [body];
    const stored = await appendJobLogs(deps, agentActorOf(c), jobId(c.req.param("id")), entries);
    return c.json({
      ...uploadJson(stored.job),
      accepted: stored.accepted,
      duplicates: stored.duplicates,
    });
  });

  // archive.browse's listing, in bounded chunks while the job runs (protocol/jobs/archive-browse.ts).
  app.post(`${BASE}/:id/listing`, agent, validate("json", ListingChunk), async (c) =>
    c.json(
      uploadJson(
        await storeListingChunk(
          deps,
          agentActorOf(c),
          jobId(c.req.param("id")),
          c.req.valid("json"),
        ),
      ),
    ),
  );

  // archive.download's file, raw, in order; answered once the browser has room for more,
  // by this replica or by the one holding the browser (handed on once, as it came).
  app.post(`${BASE}/:id/download`, agent, validate("query", DownloadChunkQuery), async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const answer = await storeDownloadChunk(
      deps,
      agentActorOf(c),
      jobId(c.req.param("id")),
      c.req.valid("query").offset,
      bytes,
      c.req.header(HANDED_ON_HEADER) !== undefined,
    );
    if ("job" in answer) return c.json(uploadJson(answer.job));
    return handOn(answer.forwardTo, c.req.raw, bytes);
  });

  const borgUiComplete = borgUiUpload("complete");
  app.post(
    `${BASE}/:id/complete`,
    agent,
    borgUiComplete,
    validate("json", CompleteRequest),
    async (c) =>
      c.json(
        uploadJson(
          await completeJob(deps, agentActorOf(c), jobId(c.req.param("id")), c.req.valid("json")),
        ),
      ),
  );

  app.post(`${BASE}/:id/fail`, agent, validate("json", FailRequest), async (c) =>
    c.json(
      uploadJson(
        await failJob(deps, agentActorOf(c), jobId(c.req.param("id")), c.req.valid("json")),
      ),
    ),
  );

  // /canceled is borgctl's name, /cancel the one spec-following agents use: one handler.
  for (const path of [`${BASE}/:id/canceled`, `${BASE}/:id/cancel`]) {
    app.post(path, agent, validate("json", CanceledRequest), async (c) =>
      c.json(
        uploadJson(
          await reportJobCanceled(
            deps,
            agentActorOf(c),
            jobId(c.req.param("id")),
            c.req.valid("json"),
          ),
        ),
      ),
    );
  }
}
