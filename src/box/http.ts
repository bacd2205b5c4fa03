/**
 * The box's HTTP API, borgbox-compatible (base /api/v1, bearer token on all but /health).
 * Routes are thin: validate, call the box's services, shape the JSON. The access log,
 * body limit, validation (strict UTF-8 JSON included) and the one onError that turns every
 * failure into {"error", "code"} are the hub's too (src/shared/http/); nothing secret is
 * ever echoed back.
 */
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { AppError } from "../shared/errors.ts";
import type { FailureThrottle } from "../shared/failure-throttle.ts";
import { accessLog, type RequestIdEnv } from "../shared/http/access-log.ts";
import { limitBody } from "../shared/http/body-limit.ts";
import { errorHandler, notFound } from "../shared/http/errors.ts";
import { validate } from "../shared/http/validate.ts";
import type { Logger } from "../shared/log.ts";
import {
  BOX_API_PREFIX,
  CheckRequest,
  CompactRequest,
  CreateRepoRequest,
  ImportRepoRequest,
  type Info,
  LendKeyRequest,
  PatchRepoRequest,
  PruneRequest,
} from "../shared/protocol/box.ts";
import { secureEqual } from "../shared/secure-compare.ts";
import type { BoxJob, JobEvent, JobRegistry } from "./jobs.ts";
import type { Maintenance } from "./maintenance.ts";
import type { RepoService } from "./repo-service.ts";
import type { BorgSession } from "./sessions.ts";
import type { SystemStats } from "./system-stats.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
const SSE_KEEPALIVE_MS = 15_000;

export interface BoxHttpDeps {
  token: string;
  logger: Logger;
  repos: RepoService;
  jobs: JobRegistry;
  maintenance: Maintenance;
  throttle: FailureThrottle;
  info: () => Promise<Info>;
  systemStats: () => Promise<SystemStats & { borgbox_version: string }>;
  sessions: () => Promise<BorgSession[]>;
  metrics: () => Promise<string>;
  /** Waits before a refused request is answered (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

/** Bun.serve passes the client address in; app.request() in tests has none. */
export type BoxBindings = { ip?: string };
type Env = { Bindings: BoxBindings } & RequestIdEnv;

function jobEventsStream(c: Context<Env>, jobs: JobRegistry, job: BoxJob) {
  return streamSSE(c, async (stream) => {
    const queue: JobEvent[] = [];
    let wake: () => void = () => {};
    // Subscribe and snapshot in the same tick, so no line is missed or sent twice.
    const unsubscribe =
      job.status === "done" || job.status === "error"
        ? () => {}
        : jobs.subscribe(job.id, (event) => {
            queue.push(event);
            wake();
          });
    const snapshot = jobs.get(job.id) ?? job;
    stream.onAbort(() => {
      unsubscribe();
      wake();
    });
    await stream.writeSSE({ event: "status", data: JSON.stringify(snapshot) });
    for (const line of snapshot.log_tail) await stream.writeSSE({ event: "log", data: line });
    let current = snapshot;
    while (!stream.aborted && current.status !== "done" && current.status !== "error") {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, SSE_KEEPALIVE_MS);
        });
        if (queue.length === 0 && !stream.aborted) await stream.write(": keep-alive\n\n");
        continue;
      }
      const event = queue.shift() as JobEvent;
      if (event.type === "log") {
        await stream.writeSSE({ event: "log", data: event.line });
      } else {
        current = event.job;
        await stream.writeSSE({ event: "status", data: JSON.stringify(event.job) });
      }
    }
    unsubscribe();
    if (!stream.aborted) await stream.writeSSE({ event: "end", data: JSON.stringify(current) });
  });
}

export function createBoxApp(deps: BoxHttpDeps): Hono<Env> {
  const { repos, jobs, maintenance } = deps;
  const log = deps.logger.child("http");
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  const app = new Hono<Env>().basePath(BOX_API_PREFIX);

  app.use("*", accessLog(log));

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const client = c.env?.ip ?? "unknown";
    if (!secureEqual(token, deps.token)) {
      const delay = deps.throttle.recordFailure(client);
      if (delay > 0) await sleep(delay);
      throw new AppError("unauthorized", "missing or wrong bearer token");
    }
    deps.throttle.recordSuccess(client);
    await next();
  });

  app.use("*", limitBody(MAX_BODY_BYTES));

  app.get("/info", async (c) => c.json(await deps.info()));
  app.get("/system/stats", async (c) => c.json(await deps.systemStats()));
  app.get("/sessions", async (c) => c.json(await deps.sessions()));
  app.get("/metrics", async (c) =>
    c.text(await deps.metrics(), 200, { "content-type": "text/plain; version=0.0.4" }),
  );

  app.get("/repos", async (c) => c.json(await repos.list()));
  app.post("/repos", validate("json", CreateRepoRequest), async (c) =>
    c.json(await repos.create(c.req.valid("json")), 201),
  );
  app.post("/repos/import", validate("json", ImportRepoRequest), async (c) =>
    c.json(await repos.import(c.req.valid("json")), 201),
  );
  app.get("/repos/:name", async (c) => c.json(await repos.get(c.req.param("name"))));
  app.patch("/repos/:name", validate("json", PatchRepoRequest), async (c) =>
    c.json(await repos.setAppendOnly(c.req.param("name"), c.req.valid("json").append_only)),
  );
  app.delete("/repos/:name", async (c) => {
    await repos.delete(c.req.param("name"));
    return c.body(null, 204);
  });

  // borgctl's addition: keys lent to a repo for one job (authorized-keys.ts, lent lines).
  app.post("/repos/:name/keys", validate("json", LendKeyRequest), async (c) => {
    await repos.lendKey(c.req.param("name"), c.req.valid("json"));
    return c.body(null, 204);
  });
  app.delete("/repos/:name/keys/:tag", async (c) => {
    await repos.returnKey(c.req.param("name"), c.req.param("tag"));
    return c.body(null, 204);
  });

  app.get("/repos/:name/archives", async (c) => {
    const passphrase = c.req.header("x-borg-passphrase");
    return c.json(await maintenance.listArchives(c.req.param("name"), passphrase || undefined));
  });
  app.post("/repos/:name/break-lock", async (c) => {
    await maintenance.breakLock(c.req.param("name"));
    return c.body(null, 204);
  });
  app.post("/repos/:name/check", validate("json", CheckRequest), async (c) => {
    const job = await maintenance.startCheck(c.req.param("name"), c.req.valid("json"));
    return c.json({ job_id: job.id, status: job.status }, 202);
  });
  app.post("/repos/:name/prune", validate("json", PruneRequest), async (c) => {
    const job = await maintenance.startPrune(c.req.param("name"), c.req.valid("json"));
    return c.json({ job_id: job.id, status: job.status }, 202);
  });
  app.post("/repos/:name/compact", validate("json", CompactRequest), async (c) => {
    const job = await maintenance.startCompact(c.req.param("name"), c.req.valid("json"));
    return c.json({ job_id: job.id, status: job.status }, 202);
  });

  app.get("/jobs", (c) => c.json(jobs.list()));
  const findJob = (id: string) => {
    const job = jobs.get(id);
    if (!job) throw new AppError("not_found", `no job ${id}`);
    return job;
  };
  app.get("/jobs/:id", (c) => c.json(findJob(c.req.param("id"))));
  app.get("/jobs/:id/stream", (c) => jobEventsStream(c, jobs, findJob(c.req.param("id"))));

  app.notFound(notFound);
  app.onError(errorHandler(log));
  return app;
}
