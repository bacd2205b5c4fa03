/**
 * The user's side of the job queue: queue a repository job for its agent, list and read
 * jobs and their logs, cancel. Queueing wakes the agent's long poll at once
 * (JobNotifier); every status change is also published for live views (JobEventBus).
 */
import { AppError } from "../../shared/errors.ts";
import {
  type JobKind,
  PLAN_PRUNE_CAPABILITY,
  TERMINAL_JOB_STATUSES,
} from "../../shared/protocol/agent.ts";
import type { JobListFilter, JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import {
  AGENT_TOO_OLD_FOR_OPTIONAL_SOURCES,
  agentLacksOptionalSources,
} from "../jobs/backup-create.ts";
import { hubJobKind } from "../jobs/index.ts";
import { type Actor, actorName, type UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { recordJobTransition } from "./job-finish.ts";
import {
  buildJobPayload,
  type JobOptions,
  REPOSITORY_ACTIONS,
  type RepositoryAction,
} from "./job-payload.ts";
import { getRepository } from "./repositories.ts";

/** Kinds added after agents were first released: queued only where the agent names them. */
const NEW_KINDS: ReadonlySet<JobKind> = new Set([
  "archive.browse",
  "archive.extract",
  "archive.download",
]);

/** Who asked, as stored in jobs.triggered_by: the API token used, else the actor. */
export const triggeredBy = (actor: Actor): string =>
  actor.kind === "user" && actor.via === "api_token"
    ? `api_token:${actor.credentialId}`
    : actorName(actor);

export function queueRepositoryJob(
  deps: HubDeps,
  actor: UserActor,
  repositoryId: number,
  action: RepositoryAction,
  options: JobOptions = {},
): Promise<JobRow> {
  return queueJobOfKind(deps, actor, repositoryId, REPOSITORY_ACTIONS[action], options);
}

/**
 * Queues a job of `kind` for the repository's agent (the repository actions, and the
 * kinds with routes of their own: archive.browse, archive.extract). A kind newer than
 * the agent (not among its reported capabilities) is refused with 409: the agent would
 * refuse its payload.
 */
export async function queueJobOfKind(
  deps: HubDeps,
  actor: UserActor,
  repositoryId: number,
  kind: JobKind,
  options: JobOptions = {},
  /** Another machine than the repository's (a cross-machine restore; restore.ts checks it). */
  onMachineId?: number,
): Promise<JobRow> {
  hubJobKind(kind).checkRequest?.(options);
  const repository = await getRepository(deps, repositoryId);
  const machine = await deps.store.machines.byId(onMachineId ?? repository.agentMachineId);
  if (!machine || machine.status === "disabled" || machine.status === "revoked") {
    throw new AppError(
      "conflict",
      `machine ${machine ? `"${machine.name}" is ${machine.status}` : "is gone"}; it can't run jobs`,
    );
  }
  // An agent that predates keep_last would drop it and prune more than was asked.
  if (
    options.prune?.keep_last !== undefined &&
    !machine.capabilities.includes(PLAN_PRUNE_CAPABILITY)
  ) {
    throw new AppError(
      "conflict",
      `the agent of machine "${machine.name}" is too old for keep_last; upgrade it, or prune without it`,
    );
  }
  if (kind === "backup.create" && agentLacksOptionalSources(repository, machine)) {
    throw new AppError("conflict", AGENT_TOO_OLD_FOR_OPTIONAL_SOURCES(machine.name));
  }
  if (NEW_KINDS.has(kind) && !machine.capabilities.includes(kind)) {
    throw new AppError(
      "conflict",
      `the agent on machine "${machine.name}" is too old to run ${kind}; upgrade borgctl there`,
    );
  }
  const job = await deps.store.jobs.insertQueued(
    {
      agentMachineId: machine.id,
      repositoryId: repository.id,
      jobKind: kind,
      triggeredBy: triggeredBy(actor),
      exclusive: hubJobKind(kind).exclusive,
      payloadFor: (jobId) => buildJobPayload(jobId, kind, repository, options),
    },
    deps.clock(),
  );
  if (!job) {
    throw new AppError("conflict", "a backup of this repository is already queued or running");
  }
  deps.notifier.notify(machine.id);
  await audit(deps, {
    actor,
    action: "job.queue",
    target: `job:${job.id}`,
    details: { job_kind: kind, repository_id: repository.id, agent_machine_id: machine.id },
  });
  return job;
}

export async function getJob(deps: HubDeps, id: number): Promise<JobRow> {
  const job = await deps.store.jobs.byId(id);
  if (!job) throw new AppError("not_found", `no job ${id}`);
  return job;
}

export const listJobs = (deps: HubDeps, filter: JobListFilter) => deps.store.jobs.list(filter);

export async function jobLogs(
  deps: HubDeps,
  id: number,
  query: { after_sequence: number; limit: number },
) {
  await getJob(deps, id);
  const logs = await deps.store.jobs.logs(id, query.after_sequence, query.limit);
  // Pass next_sequence back as after_sequence to read on from there.
  return { logs, nextSequence: logs.at(-1)?.sequence ?? query.after_sequence };
}

/**
 * A queued job is canceled at once; a claimed or running one becomes cancel_requested
 * and its agent stops borg and reports /canceled. Asking again is harmless; a finished
 * job answers 409. Retries once when the job changed state under us (e.g. claimed
 * between the read and the update).
 */
export async function cancelJob(deps: HubDeps, actor: UserActor, id: number) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const job = await getJob(deps, id);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) {
      throw new AppError("conflict", `job ${id} is already ${job.status}`, { status: job.status });
    }
    if (job.status === "cancel_requested") return job.status;
    const now = deps.clock();
    const changed =
      job.status === "queued"
        ? await deps.store.jobs.cancelQueued(id, now, "canceled")
        : await deps.store.jobs.requestCancel(id, now);
    if (!changed) continue;
    // Its agent's next heartbeat must look the request up (services/job-notifier.ts).
    if (changed.status === "cancel_requested" && changed.agentMachineId !== null) {
      deps.notifier.notify(changed.agentMachineId);
    }
    await recordJobTransition(deps, changed, {
      actor,
      action: changed.status === "canceled" ? "job.cancel" : "job.cancel_request",
    });
    return changed.status;
  }
  throw new AppError("conflict", `job ${id} keeps changing state; try again`);
}
