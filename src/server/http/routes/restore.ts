/**
 * Restore routes (API.md "Restore"):
 * - GET /api/repositories/{id}/archives/{archive}/tree?path=…&q=… → 200 one directory
 *   level (or search hits) from the hub's listing cache, or 202 {job_id} while the
 *   archive.browse job that fills it runs. Viewers read what is cached; listing an
 *   archive that is not runs a job, which needs the operator role (403 for a viewer).
 * - POST /api/repositories/{id}/restore → 202 {job_id} (archive.extract), operator.
 */
import type { Hono } from "hono";
import { RestoreRequest, TreeQuery } from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import { archiveTree } from "../../services/archive-browse.ts";
import { queueRestore } from "../../services/restore.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

export function restoreRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  const operator = requireUser(deps, "operator");
  const repoId = (value: string | undefined) => idParam(value, "repository");

  app.get(
    "/api/repositories/:id/archives/:archive/tree",
    viewer,
    validate("query", TreeQuery),
    async (c) => {
      const answer = await archiveTree(
        deps,
        actorOf(c),
        repoId(c.req.param("id")),
        c.req.param("archive"),
        c.req.valid("query"),
      );
      if (answer.kind === "queued") {
        return c.json({ job_id: answer.job.id, status: answer.job.status }, 202);
      }
      return c.json({ path: answer.path, entries: answer.entries, truncated: answer.truncated });
    },
  );

  app.post(
    "/api/repositories/:id/restore",
    operator,
    validate("json", RestoreRequest),
    async (c) => {
      const job = await queueRestore(
        deps,
        actorOf(c),
        repoId(c.req.param("id")),
        c.req.valid("json"),
      );
      return c.json({ job_id: job.id, status: job.status }, 202);
    },
  );
}
