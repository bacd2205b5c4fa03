/**
 * /api/plans: backup plans (a schedule, retention, check cadence per repository) and
 * "run now" (POST /{id}/run → 202 JobAccepted), and a schedule's preview before it is
 * saved (GET /preview?schedule&timezone → next 5 due times and the words). Answers carry the next due times and the
 * schedule in words, computed at the hub's clock.
 *
 * Roles, least privilege: viewers read. Operators create, change, delete and run plans:
 * every job a plan queues (backup.create with the repository's own sources and archive
 * name; prune with keep rules; check; compact) is one an operator may already queue by
 * hand with POST /api/repositories/{id}/<action>, so a schedule adds timing, not power.
 * What is read on the machine and where it goes stays the repository's, which only an
 * admin sets (routes/repositories.ts). Retention can delete archives, but so can an
 * operator's manual prune today; if prune becomes admin-only, retention changes must too.
 */
import type { Hono } from "hono";
import {
  CreatePlanRequest,
  PlanListQuery,
  PlanPreviewQuery,
  UpdatePlanRequest,
} from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import {
  createPlan,
  deletePlan,
  getPlan,
  listPlans,
  planJson,
  previewSchedule,
  runPlanNow,
  updatePlan,
} from "../../services/plans.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

export function planRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  const operator = requireUser(deps, "operator");
  const planId = (value: string | undefined) => idParam(value, "plan");

  app.get("/api/plans", viewer, validate("query", PlanListQuery), async (c) => {
    const rows = await listPlans(deps, { repositoryId: c.req.valid("query").repository_id });
    const now = deps.clock();
    return c.json(rows.map((row) => planJson(row, now)));
  });

  // Before /:id, which would read "preview" as an id. Stateless: a viewer may ask too.
  app.get("/api/plans/preview", viewer, validate("query", PlanPreviewQuery), (c) => {
    const { schedule, timezone } = c.req.valid("query");
    return c.json(previewSchedule(schedule, timezone, deps.clock()));
  });

  app.post("/api/plans", operator, validate("json", CreatePlanRequest), async (c) =>
    c.json(planJson(await createPlan(deps, actorOf(c), c.req.valid("json")), deps.clock()), 201),
  );

  app.get("/api/plans/:id", viewer, async (c) =>
    c.json(planJson(await getPlan(deps, planId(c.req.param("id"))), deps.clock())),
  );

  app.patch("/api/plans/:id", operator, validate("json", UpdatePlanRequest), async (c) =>
    c.json(
      planJson(
        await updatePlan(deps, actorOf(c), planId(c.req.param("id")), c.req.valid("json")),
        deps.clock(),
      ),
    ),
  );

  app.delete("/api/plans/:id", operator, async (c) => {
    await deletePlan(deps, actorOf(c), planId(c.req.param("id")));
    return c.body(null, 204);
  });

  app.post("/api/plans/:id/run", operator, async (c) => {
    const job = await runPlanNow(deps, actorOf(c), planId(c.req.param("id")));
    return c.json({ job_id: job.id, status: job.status }, 202);
  });
}
