/**
 * /api/boxes: storage boxes. Viewers read (list, one — which refreshes it first — and the
 * box's own repo list); admins register, change and delete. No answer carries the token.
 */
import type { Hono } from "hono";
import {
  type Box,
  type BoxRepoList,
  CreateBoxRequest,
  UpdateBoxRequest,
} from "../../../shared/protocol/api.ts";
import type { BoxRow } from "../../db/records.ts";
import type { HubDeps } from "../../deps.ts";
import {
  boxRepos,
  deleteBox,
  listBoxes,
  refreshedBox,
  registerBox,
  updateBox,
} from "../../services/boxes.ts";
import { toIso, toIsoOrNull } from "../../services/time.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

/** The Box wire shape: never the token (the row does not even hold it). */
export const boxJson = (b: BoxRow): Box => ({
  id: b.id,
  name: b.name,
  url: b.url,
  ssh_host: b.sshHost,
  ssh_port: b.sshPort,
  ssh_user: b.sshUser,
  status: b.status,
  last_seen_at: toIsoOrNull(b.lastSeenAt),
  last_error: b.lastError,
  version: b.version,
  borg_version: b.borgVersion,
  free_bytes: b.freeBytes,
  total_bytes: b.totalBytes,
  repo_count: b.repoCount,
  ssh_host_keys: b.sshHostKeys,
  created_at: toIso(b.createdAt),
});

export function boxRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  const admin = requireUser(deps, "admin");
  const boxId = (value: string | undefined) => idParam(value, "box");

  app.get("/api/boxes", viewer, async (c) => c.json((await listBoxes(deps)).map(boxJson)));

  app.post("/api/boxes", admin, validate("json", CreateBoxRequest), async (c) =>
    c.json(boxJson(await registerBox(deps, actorOf(c), c.req.valid("json"))), 201),
  );

  app.get("/api/boxes/:id", viewer, async (c) =>
    c.json(boxJson(await refreshedBox(deps, boxId(c.req.param("id"))))),
  );

  app.patch("/api/boxes/:id", admin, validate("json", UpdateBoxRequest), async (c) =>
    c.json(
      boxJson(await updateBox(deps, actorOf(c), boxId(c.req.param("id")), c.req.valid("json"))),
    ),
  );

  app.delete("/api/boxes/:id", admin, async (c) => {
    await deleteBox(deps, actorOf(c), boxId(c.req.param("id")));
    return c.body(null, 204);
  });

  app.get("/api/boxes/:id/repos", viewer, async (c) => {
    const listed = await boxRepos(deps, boxId(c.req.param("id")));
    const body: BoxRepoList = {
      repos: listed.repos.map((r) => ({
        name: r.name,
        path: r.path,
        size_bytes: r.size_bytes,
        initialized: r.initialized,
        last_write_at: r.last_write_at,
        append_only: r.append_only,
        registered: r.registered,
        repository_id: r.repositoryId,
      })),
      listed_at: toIsoOrNull(listed.listedAt),
    };
    return c.json(body);
  });
}
