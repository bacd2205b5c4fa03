/**
 * Restore routes (API.md "Restore"):
 * - GET /api/repositories/{id}/archives/{archive}/tree?path=…&q=… → 200 one directory
 *   level (or search hits) from the hub's listing cache, or 202 {job_id} while the
 *   archive.browse job that fills it runs. Viewers read what is cached; listing an
 *   archive that is not runs a job, which needs the operator role (403 for a viewer).
 * - POST /api/repositories/{id}/restore → 202 {job_id} (archive.extract), operator.
 * - GET /api/repositories/{id}/archives/{archive}/download?path=… → 200 the file's bytes
 *   (archive.download streamed through the hub: services/archive-download.ts), operator:
 *   it runs a job on the machine and hands out file contents. A GET, so a plain link
 *   downloads it; one a browser marks as sent from another site (Sec-Fetch-Site:
 *   cross-site) is refused, since the CSRF check covers only unsafe methods.
 */

import { create as contentDisposition } from "content-disposition";
import type { Hono } from "hono";
import { AppError } from "../../../shared/errors.ts";
import { DownloadQuery, RestoreRequest, TreeQuery } from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import { archiveTree } from "../../services/archive-browse.ts";
import { startDownload } from "../../services/archive-download.ts";
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
      return c.json({
        path: answer.path,
        entries: answer.entries,
        truncated: answer.truncated,
        download_max_bytes: deps.settings.downloadMaxBytes,
      });
    },
  );

  app.get(
    "/api/repositories/:id/archives/:archive/download",
    operator,
    validate("query", DownloadQuery),
    async (c) => {
      if (c.req.header("sec-fetch-site") === "cross-site") {
        throw new AppError("forbidden", "a download must be started from the hub's own pages");
      }
      c.env?.keepOpen?.();
      const download = await startDownload(
        deps,
        actorOf(c),
        repoId(c.req.param("id")),
        c.req.param("archive"),
        c.req.valid("query").path,
        c.req.raw.signal,
      );
      const headers: Record<string, string> = {
        "content-type": "application/octet-stream",
        // Bun drops it from a streamed body for now (oven-sh/bun#10507) and sends it chunked;
        // a transfer cut short then lacks its last chunk, which browsers count as failed.
        "content-length": String(download.size),
        "content-disposition": contentDisposition(download.name),
        "cache-control": "no-store",
      };
      if (download.jobId !== undefined) headers["x-borgctl-job-id"] = String(download.jobId);
      return new Response(download.body, { headers });
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
