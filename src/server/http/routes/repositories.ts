/**
 * /api/repositories: records and the repository actions that queue a job for the
 * repository's agent (POST /{id}/init|backup|check|prune|compact|break-lock|list → 202
 * JobAccepted). No answer ever carries the passphrase or its ciphertext: `has_passphrase` only.
 *
 * Roles, least privilege: the agent runs borg as root, so whoever decides a repository's
 * settings decides what is read on that machine and where it is sent. Hence:
 * - viewer: reads (list, one, archives);
 * - operator: runs the actions (jobs against a repository an admin set up) and may PATCH
 *   only the fields services/repository-rules.ts names; a PATCH that touches any other
 *   field is 403 naming the fields, and nothing is changed;
 * - admin: creates and deletes repositories and changes every field.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { Repository, StorageEvidence } from "../../../shared/protocol/api.ts";
import {
  CheckJobRequest,
  CreateRepositoryRequest,
  PruneJobRequest,
  UpdateRepositoryRequest,
} from "../../../shared/protocol/api.ts";
import type { RepositoryRow } from "../../db/records.ts";
import type { HubDeps } from "../../deps.ts";
import {
  type FreshnessFacts,
  freshnessJson,
  freshnessOfRepositories,
} from "../../services/freshness.ts";
import { jobJson } from "../../services/job-json.ts";
import { REPOSITORY_ACTIONS, type RepositoryAction } from "../../services/job-payload.ts";
import { queueRepositoryJob } from "../../services/jobs.ts";
import {
  createRepository,
  deleteRepository,
  listRepositories,
  repositoryArchives,
  repositoryWithLastJob,
  updateRepository,
} from "../../services/repositories.ts";
import { storageEvidenceOf } from "../../services/storage-evidence.ts";
import { toIso, toIsoOrNull } from "../../services/time.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

export const repositoryJson = (
  r: RepositoryRow,
  facts: FreshnessFacts,
  evidence: StorageEvidence | null = null,
): Repository => ({
  id: r.id,
  name: r.name,
  execution_target: "agent",
  agent_machine_id: r.agentMachineId,
  location: r.location,
  box_id: r.boxId,
  borg_version: r.borgVersion,
  encryption: r.encryption,
  passphrase_location: r.passphraseLocation,
  has_passphrase: r.hasPassphrase,
  source_paths: r.sourcePaths,
  optional_source_paths: r.optionalSourcePaths,
  exclude_patterns: r.excludePatterns,
  compression: r.compression,
  archive_name: r.archiveName,
  append_only: r.appendOnly,
  last_backup_at: toIsoOrNull(r.lastBackupAt),
  last_result: r.lastResult,
  last_job_id: r.lastJobId,
  expected_interval_seconds: r.expectedIntervalSeconds,
  overdue_factor: r.overdueFactor,
  freshness: freshnessJson(r, facts, evidence),
  created_at: toIso(r.createdAt),
  updated_at: toIso(r.updatedAt),
});

const DeleteQuery = z.strictObject({ purge: z.enum(["true", "false"]).optional() });
const NoBody = z.strictObject({});

/** The request body each action takes (none but check and prune). */
const ACTION_BODIES: Record<RepositoryAction, z.ZodType> = {
  init: NoBody,
  backup: NoBody,
  check: CheckJobRequest,
  prune: PruneJobRequest,
  compact: NoBody,
  "break-lock": NoBody,
  list: NoBody,
};

/** Repositories as answered: each with its freshness (one plan read for all of them). */
async function repositoriesJson(deps: HubDeps, rows: RepositoryRow[]): Promise<Repository[]> {
  const [facts, evidence] = await Promise.all([
    freshnessOfRepositories(deps, rows),
    storageEvidenceOf(deps, rows),
  ]);
  return rows.map((r) =>
    repositoryJson(r, facts.get(r.id) as FreshnessFacts, evidence.get(r.id) ?? null),
  );
}
const oneJson = async (deps: HubDeps, row: RepositoryRow) =>
  (await repositoriesJson(deps, [row]))[0] as Repository;

export function repositoryRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const viewer = requireUser(deps, "viewer");
  const operator = requireUser(deps, "operator");
  const admin = requireUser(deps, "admin");
  const repoId = (value: string | undefined) => idParam(value, "repository");

  app.get("/api/repositories", viewer, async (c) =>
    c.json(await repositoriesJson(deps, await listRepositories(deps))),
  );

  app.post("/api/repositories", admin, validate("json", CreateRepositoryRequest), async (c) => {
    const created = await createRepository(deps, actorOf(c), c.req.valid("json"));
    const body: Repository = await oneJson(deps, created.repository);
    if (created.initJobId !== undefined) body.init_job_id = created.initJobId;
    return c.json(body, 201);
  });

  app.get("/api/repositories/:id", viewer, async (c) => {
    const { repository, lastJob } = await repositoryWithLastJob(deps, repoId(c.req.param("id")));
    return c.json({
      ...(await oneJson(deps, repository)),
      last_job: lastJob ? jobJson(lastJob) : null,
    });
  });

  // Operators reach the service, which decides per field what they may change.
  app.patch(
    "/api/repositories/:id",
    operator,
    validate("json", UpdateRepositoryRequest),
    async (c) =>
      c.json(
        await oneJson(
          deps,
          await updateRepository(deps, actorOf(c), repoId(c.req.param("id")), c.req.valid("json")),
        ),
      ),
  );

  // 204, or 200 with a message when the data stays on a box (deleted without purge).
  app.delete("/api/repositories/:id", admin, validate("query", DeleteQuery), async (c) => {
    const deleted = await deleteRepository(deps, actorOf(c), repoId(c.req.param("id")), {
      purge: c.req.valid("query").purge === "true",
    });
    if (deleted.keptOnBox) {
      return c.json({
        box_repo_kept: true,
        box_id: deleted.keptOnBox.boxId,
        message: deleted.keptOnBox.message,
      });
    }
    return c.body(null, 204);
  });

  app.get("/api/repositories/:id/archives", viewer, async (c) => {
    const listed = await repositoryArchives(deps, repoId(c.req.param("id")));
    return c.json({ archives: listed.archives, listed_at: toIsoOrNull(listed.listedAt) });
  });

  for (const action of Object.keys(REPOSITORY_ACTIONS) as RepositoryAction[]) {
    app.post(
      `/api/repositories/:id/${action}`,
      operator,
      validate("json", ACTION_BODIES[action]),
      async (c) => {
        const body = c.req.valid("json") as Record<string, unknown>;
        const job = await queueRepositoryJob(
          deps,
          actorOf(c),
          repoId(c.req.param("id")),
          action,
          action === "check"
            ? { check: body as z.infer<typeof CheckJobRequest> }
            : action === "prune"
              ? { prune: body as z.infer<typeof PruneJobRequest> }
              : {},
        );
        return c.json({ job_id: job.id, status: job.status }, 202);
      },
    );
  }
}
