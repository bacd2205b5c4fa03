/**
 * The agent's side of the job queue (protocol/agent.ts lifecycle): poll, claim, start,
 * progress, logs, and the terminal reports. Each call acts only on jobs of the calling
 * agent: another agent's job id answers 404 exactly like an unknown one. Each state
 * change is one guarded UPDATE; when it matches no row, `refusal` explains why
 * (404 / 409 conflict / 409 lease_lost). Start, progress and logs renew the job's lease.
 * Every terminal report sets the job's ended_reason; a complete report is read with its
 * kind's result schema and recorded by the kind's module (server/jobs).
 */
import { AppError } from "../../shared/errors.ts";
import {
  type CompleteRequest,
  JOB_RESULTS,
  JobPayload,
  type JobPayloadUnion,
  type JobSummary,
  type LogEntry,
  PASSPHRASE_SECRET_REF,
  type ProgressRequest,
  TERMINAL_JOB_STATUSES,
  UNREADABLE_OUTPUT,
} from "../../shared/protocol/agent.ts";
import { describeIssues } from "../../shared/zod-issues.ts";
import type { JobFinish, JobLogRow, JobRow, StoredJobResult } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { hubJobKind } from "../jobs/index.ts";
import type { AgentActor } from "./actor.ts";
import { endedByLeaseSweep, recordJobTransition } from "./job-finish.ts";
import { jobLogJson, jobSummaryJson, progressJson } from "./job-json.ts";
import { completedStatus, redactSecrets } from "./job-payload.ts";

const HELD = new Set(["claimed", "running", "cancel_requested"]);

export const leaseUntil = (deps: HubDeps, now: number) => now + deps.settings.leaseMs;

/**
 * Up to `limit` of the agent's queued jobs, oldest first. The queued-work lookup runs
 * only when the notifier does not know the agent to be idle (services/job-notifier.ts):
 * an idle agent's poll, and its wait running out, touch no database. With none and
 * `waitMs` > 0, waits for a notify (or the wait, or the request going away) and looks
 * once more only when notified. A notify landing during the first lookup keeps it from
 * being recorded as idle and makes it look again at once, so that job is never waited out.
 */
export async function pollJobs(
  deps: HubDeps,
  agent: AgentActor,
  options: { limit: number; waitMs: number },
  signal?: AbortSignal,
): Promise<JobRow[]> {
  const agentMachineId = agent.machineId;
  const { notifier } = deps;
  const lookUp = async (): Promise<{ jobs: JobRow[]; idle: boolean }> => {
    const ticket = notifier.lookupTicket(agentMachineId);
    const jobs = await deps.store.jobs.queuedFor(agentMachineId, options.limit);
    const idle = jobs.length === 0 && notifier.recordNone(agentMachineId, "queued", ticket);
    return { jobs, idle };
  };
  if (!notifier.knownNone(agentMachineId, "queued")) {
    const first = await lookUp();
    if (first.jobs.length > 0) return first.jobs;
    // Notified while looking: whatever was queued may have been missed; look again.
    if (!first.idle) return (await lookUp()).jobs;
  }
  if (options.waitMs <= 0 || signal?.aborted) return [];
  const woken = await notifier.wait(agentMachineId, options.waitMs, signal);
  return woken ? (await lookUp()).jobs : [];
}

/**
 * One job of a poll answer, as the spec shows it: id, type, created_at and the payload
 * with its secrets replaced by references, plus job_kind and repository_id for borgctl
 * agents that read only those. The passphrase is never in it: the secrets block is built
 * here from the passphrase's location alone (whatever the stored payload holds), and the
 * value only comes with the claim.
 */
export function polledJobJson(row: JobRow): JobSummary {
  const { secrets, ...payload } = JobPayload.parse(row.payload);
  return {
    ...jobSummaryJson(row),
    type: row.jobKind,
    payload: {
      ...payload,
      secrets:
        secrets.passphrase_location === "hub"
          ? { passphrase_location: "hub", passphrase: { secret_ref: PASSPHRASE_SECRET_REF } }
          : { passphrase_location: secrets.passphrase_location },
    },
  };
}

/**
 * The decrypted passphrase of one of the agent's own queued jobs, for the one agent that
 * reads it from its poll answer (Borg UI's: http/borg-ui-agent.ts); undefined when the
 * hub does not hold it. Another agent's job gives nothing.
 */
export async function polledPassphrase(
  deps: HubDeps,
  agent: AgentActor,
  job: JobRow,
): Promise<string | undefined> {
  if (job.agentMachineId !== agent.machineId) return undefined;
  const [passphrase] = await jobSecrets(deps, job);
  return passphrase;
}

/** Why a guarded update of job `id` by this agent matched no row. */
export async function refusal(deps: HubDeps, agent: AgentActor, id: number): Promise<AppError> {
  const job = await deps.store.jobs.byId(id);
  // Another agent's job looks exactly like a missing one.
  if (!job || job.agentMachineId !== agent.machineId) {
    return new AppError("not_found", `no job ${id}`);
  }
  if (endedByLeaseSweep(job)) {
    return new AppError(
      "lease_lost",
      `job ${id} was failed because its lease expired (${job.errorMessage}); stop working on it`,
      { status: job.status },
    );
  }
  if (job.status === "queued") {
    return new AppError(
      "lease_lost",
      `job ${id} is not claimed (a claim whose lease expired before start is requeued); claim it again`,
      { status: job.status },
    );
  }
  if (TERMINAL_JOB_STATUSES.includes(job.status)) {
    return new AppError("conflict", `job ${id} is already ${job.status}`, { status: job.status });
  }
  return new AppError("conflict", `job ${id} changed state (now ${job.status}); retry`, {
    status: job.status,
  });
}

/** The passphrase(s) a job could leak into logs: the hub-held one of its repository. */
async function jobSecrets(deps: HubDeps, job: JobRow): Promise<string[]> {
  if (job.payload.secrets.passphrase_location !== "hub" || job.repositoryId === null) return [];
  const sealed = await deps.store.repositories.sealedPassphrase(job.repositoryId);
  return sealed ? [deps.secretBox.decrypt(sealed)] : [];
}

/**
 * queued → claimed for the owner, answering the payload with the passphrase: the only
 * place one leaves the hub. A repeated claim by the owner answers the same payload.
 */
export async function claimJob(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
): Promise<JobPayloadUnion> {
  const now = deps.clock();
  let job = await deps.store.jobs.claim(id, agent.machineId, now, leaseUntil(deps, now));
  if (job) {
    await recordJobTransition(deps, job, { actor: agent, action: "job.claim" });
  } else {
    const current = await deps.store.jobs.byId(id);
    if (!current || current.agentMachineId !== agent.machineId || !HELD.has(current.status)) {
      throw await refusal(deps, agent, id);
    }
    // A retried claim: same answer; the agent is evidently alive, so renew the lease.
    job =
      (await deps.store.jobs.renewLease(id, agent.machineId, now, leaseUntil(deps, now))) ??
      current;
  }
  const payload = JobPayload.parse(job.payload);
  const [passphrase] = await jobSecrets(deps, job);
  if (passphrase !== undefined) payload.secrets = { ...payload.secrets, passphrase };
  return payload;
}

export async function startJob(deps: HubDeps, agent: AgentActor, id: number): Promise<JobRow> {
  const now = deps.clock();
  const before = await deps.store.jobs.byId(id);
  const job = await deps.store.jobs.start(id, agent.machineId, now, leaseUntil(deps, now));
  if (!job) throw await refusal(deps, agent, id);
  if (before?.status !== job.status) {
    await recordJobTransition(deps, job, { actor: agent, action: "job.start" });
  }
  return job;
}

export async function recordJobProgress(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  progress: ProgressRequest,
): Promise<JobRow> {
  const current = await deps.store.jobs.byId(id);
  const secrets =
    current?.agentMachineId === agent.machineId ? await jobSecrets(deps, current) : [];
  const now = deps.clock();
  const job = await deps.store.jobs.recordProgress(
    id,
    agent.machineId,
    {
      progressPercent: progress.progress_percent,
      currentFile:
        progress.current_file == null
          ? progress.current_file
          : redactSecrets(progress.current_file, secrets),
      originalSize: progress.original_size,
      compressedSize: progress.compressed_size,
      deduplicatedSize: progress.deduplicated_size,
      nfiles: progress.nfiles,
      backupSpeed: progress.backup_speed,
      estimatedTimeRemaining: progress.estimated_time_remaining,
      phase: progress.phase,
    },
    now,
    leaseUntil(deps, now),
  );
  if (!job) throw await refusal(deps, agent, id);
  deps.events.publish(id, { type: "progress", data: progressJson(job) });
  return job;
}

/**
 * An upload of the agent's own active job (logs, a listing or a download chunk): renews
 * its lease and answers the job, or throws the refusal (404 another's, 409 one that ended).
 */
export async function renewUploadLease(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
): Promise<JobRow> {
  const now = deps.clock();
  const job = await deps.store.jobs.renewLease(id, agent.machineId, now, leaseUntil(deps, now));
  if (!job) throw await refusal(deps, agent, id);
  return job;
}

/** Stores log lines once each (by sequence), redacted; publishes the new ones. */
export async function appendJobLogs(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  entries: LogEntry[],
): Promise<{ job: JobRow; accepted: number; duplicates: number }> {
  const now = deps.clock();
  const job = await renewUploadLease(deps, agent, id);
  const secrets = await jobSecrets(deps, job);
  const rows: JobLogRow[] = entries.map((e) => ({
    sequence: e.sequence,
    stream: e.stream,
    message: redactSecrets(e.message, secrets),
    // The spec's entries may come without a time: then it is when the hub got them.
    createdAt: e.created_at === undefined ? now : Date.parse(e.created_at),
  }));
  const stored = await deps.store.jobs.insertLogs(id, rows);
  for (const log of [...stored].sort((a, b) => a.sequence - b.sequence)) {
    deps.events.publish(id, { type: "log", data: jobLogJson(log) });
  }
  return { job, accepted: stored.length, duplicates: entries.length - stored.length };
}

async function finishJob(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  finish: JobFinish,
  action: string,
): Promise<JobRow> {
  const job = await deps.store.jobs.finish(id, agent.machineId, finish, deps.clock());
  if (!job) throw await refusal(deps, agent, id);
  await recordJobTransition(deps, job, {
    actor: agent,
    action,
    details: { return_code: job.returnCode },
  });
  return job;
}

/**
 * The agent's result. Read with the job kind's own result schema first: a result that
 * lacks what its kind must report (an archive list without the list) fails the job
 * instead of being recorded as empty. Otherwise the agent's report decides the status
 * (completedStatus: the hub keeps no exit-code table), and the kind's module says what
 * the job keeps and records elsewhere (an archive list goes onto the repository).
 */
export async function completeJob(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  request: CompleteRequest,
): Promise<JobRow> {
  const current = await deps.store.jobs.byId(id);
  // Another agent's job, or none: the guarded finish refuses it below, exactly as before.
  const mine = current?.agentMachineId === agent.machineId ? current : undefined;
  const secrets = mine ? await jobSecrets(deps, mine) : [];
  const { result } = request;
  const read = mine ? JOB_RESULTS[mine.jobKind].safeParse(result) : undefined;
  if (read && !read.success) {
    return finishJob(
      deps,
      agent,
      id,
      {
        status: "failed",
        errorMessage: redactSecrets(
          `${UNREADABLE_OUTPUT}: the agent's ${mine?.jobKind} result is incomplete (${describeIssues(read.error.issues)})`,
          secrets,
        ),
        returnCode: result.return_code,
        endedReason: "borg_failed",
      },
      "job.fail",
    );
  }
  const kind = mine ? hubJobKind(mine.jobKind) : undefined;
  const stored: StoredJobResult = read?.success && kind ? kind.stored(read.data) : {};
  if (result.warnings !== undefined) {
    stored.warnings = result.warnings.map((w) => redactSecrets(w, secrets));
  }
  const finish: JobFinish = {
    status: completedStatus(result),
    result: stored,
    errorMessage: null,
    returnCode: result.return_code,
    endedReason: "completed",
  };
  // The job's end and what it records elsewhere (an archive list onto its repository)
  // land together: otherwise a reader could see the job completed and the old list, and
  // a crash in between would keep the job's word for a list that was never stored.
  const job = await deps.store.transaction(async (tx) => {
    const finished = await tx.jobs.finish(id, agent.machineId, finish, deps.clock());
    if (finished && read?.success && kind) {
      await kind.completed?.({ ...deps, store: tx }, finished, read.data);
    }
    return finished;
  });
  if (!job) throw await refusal(deps, agent, id);
  await recordJobTransition(deps, job, {
    actor: agent,
    action: "job.complete",
    details: { return_code: job.returnCode },
  });
  return job;
}

export async function failJob(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  request: { error_message: string; return_code?: number | null },
): Promise<JobRow> {
  const current = await deps.store.jobs.byId(id);
  const secrets =
    current?.agentMachineId === agent.machineId ? await jobSecrets(deps, current) : [];
  return finishJob(
    deps,
    agent,
    id,
    {
      status: "failed",
      errorMessage: redactSecrets(request.error_message, secrets),
      returnCode: request.return_code ?? null,
      // The agent's failures are its borg run's (or what kept borg from running).
      endedReason: "borg_failed",
    },
    "job.fail",
  );
}

/**
 * The agent stopped borg because of a cancel request. Accepted from claimed and running
 * too, not only cancel_requested: the agent may have stopped for its own reasons
 * (shutdown), and a canceled job is what the user sees either way.
 */
export async function reportJobCanceled(
  deps: HubDeps,
  agent: AgentActor,
  id: number,
  request: { return_code?: number | null },
): Promise<JobRow> {
  return finishJob(
    deps,
    agent,
    id,
    { status: "canceled", returnCode: request.return_code ?? null, endedReason: "canceled" },
    "job.canceled",
  );
}

/** One of the agent's own jobs; another agent's answers 404. */
export async function agentJob(deps: HubDeps, agent: AgentActor, id: number): Promise<JobRow> {
  const job = await deps.store.jobs.byId(id);
  if (!job || job.agentMachineId !== agent.machineId) {
    throw new AppError("not_found", `no job ${id}`);
  }
  return job;
}
