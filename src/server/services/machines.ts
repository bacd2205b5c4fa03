/**
 * Machines as admins manage them: read, rename/label, disable, enable, revoke, delete,
 * and the offline sweep. Status changes are guarded UPDATEs and audited; see
 * services/agents.ts for the status machine and the agent's own side.
 */
import { AppError } from "../../shared/errors.ts";
import type { MachineRow, MachineStatus } from "../db/records.ts";
import { RUNTIME_STATUSES } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { actorName, SYSTEM, type UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { flushHeartbeats } from "./heartbeat-batch.ts";
import { publishHubEvent } from "./hub-events.ts";
import { toIso } from "./time.ts";

/** The error_message of queued jobs canceled because their agent was revoked. */
const REVOKED_JOB_MESSAGE = "agent revoked";

// --- user side: read, update, disable/enable/revoke, delete ---------------------------

/** A machine as its heartbeats say: with the one this process has not written yet. */
function withPendingHeartbeat(deps: HubDeps, machine: MachineRow): MachineRow {
  const seenAt = deps.heartbeats.pendingSeenAt(machine.id);
  return seenAt === undefined || (machine.lastSeenAt ?? 0) >= seenAt
    ? machine
    : { ...machine, lastSeenAt: seenAt };
}

export async function listMachines(deps: HubDeps): Promise<MachineRow[]> {
  return (await deps.store.machines.list()).map((m) => withPendingHeartbeat(deps, m));
}

export async function getMachine(deps: HubDeps, id: number): Promise<MachineRow> {
  const machine = await deps.store.machines.byId(id);
  if (!machine) throw new AppError("not_found", `no machine ${id}`);
  return withPendingHeartbeat(deps, machine);
}

export async function updateMachine(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: { name?: string; labels?: Record<string, string> },
): Promise<MachineRow> {
  const updated = await deps.store.machines.update(
    id,
    { name: request.name, labels: request.labels },
    deps.clock(),
  );
  if (!updated) throw new AppError("not_found", `no machine ${id}`);
  deps.credentials.invalidate(id); // a verified credential carries the machine's name
  deps.heartbeats.forget(id); // labels an admin removed come back with the next heartbeat
  await audit(deps, {
    actor,
    action: "agent.update",
    target: `machine:${id}`,
    ip: actor.ip,
    details: {
      name: request.name,
      labels: request.labels === undefined ? undefined : Object.keys(request.labels),
    },
  });
  return updated;
}

/**
 * Labels an agent reports at register or heartbeat, stored on the machine's one set of
 * labels. Kept simple on purpose: a reported key the machine does not have yet is added;
 * a key it already has keeps its value, so a label an admin set (PATCH) always wins over
 * the agent, and the agent never removes or rewrites one. An admin may change or remove
 * any label; one the agent keeps reporting comes back like its other facts (hostname).
 * Written only when a key is new, so the steady heartbeat writes nothing.
 */
export async function recordAgentLabels(
  deps: HubDeps,
  machine: MachineRow,
  reported: Record<string, string> | undefined,
): Promise<MachineRow> {
  if (reported === undefined) return machine;
  const added = Object.entries(reported).filter(([key]) => !Object.hasOwn(machine.labels, key));
  if (added.length === 0) return machine;
  const labels = { ...Object.fromEntries(added), ...machine.labels };
  return (await deps.store.machines.update(machine.id, { labels }, deps.clock())) ?? machine;
}

interface StatusChange {
  from: readonly MachineStatus[];
  to: MachineStatus;
  /** Says the fix when the machine is in a status this change can't start from. */
  refusal: (current: MachineStatus) => string;
}

/**
 * Moves a machine to `change.to` with a compare-and-set on the status it was read with,
 * so the caller's audit names the real `from`. Already there: a no-op (`from` undefined);
 * a status outside `change.from`: 409.
 */
async function changeStatus(
  deps: HubDeps,
  id: number,
  change: StatusChange,
): Promise<{ machine: MachineRow; from?: MachineStatus }> {
  // A lost compare-and-set means someone else changed the status meanwhile: look again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getMachine(deps, id);
    if (current.status === change.to) return { machine: current };
    if (!change.from.includes(current.status)) {
      throw new AppError("conflict", change.refusal(current.status));
    }
    const machine = await deps.store.machines.transition(
      id,
      [current.status],
      change.to,
      deps.clock(),
    );
    if (machine) {
      // Before anyone is answered: the next request with its credential is refused.
      if (!RUNTIME_STATUSES.includes(change.to)) deps.credentials.invalidate(id);
      deps.heartbeats.forget(id);
      // A long poll held by a machine that may no longer act returns now, so its next
      // request meets the refusal instead of waiting out the poll.
      if (change.to === "disabled" || change.to === "revoked") deps.notifier.notify(id);
      return { machine, from: current.status };
    }
  }
  throw new AppError("conflict", `machine ${id} is changing status; try again`);
}

/** Refuses the credential at once; queued jobs stay queued until the machine is enabled. */
export async function disableMachine(
  deps: HubDeps,
  actor: UserActor,
  id: number,
): Promise<MachineRow> {
  const { machine, from } = await changeStatus(deps, id, {
    from: RUNTIME_STATUSES,
    to: "disabled",
    refusal: (s) => `machine ${id} is ${s} and cannot be disabled`,
  });
  if (from) {
    await audit(deps, {
      actor,
      action: "agent.disable",
      target: `machine:${id}`,
      ip: actor.ip,
      details: { from, to: "disabled" },
    });
  }
  return machine;
}

/** disabled → offline: the machine's next heartbeat brings it online. */
export async function enableMachine(
  deps: HubDeps,
  actor: UserActor,
  id: number,
): Promise<MachineRow> {
  const current = await getMachine(deps, id);
  // Already allowed to act: nothing to enable.
  if (RUNTIME_STATUSES.includes(current.status)) return current;
  const { machine, from } = await changeStatus(deps, id, {
    from: ["disabled"],
    to: "offline",
    refusal: (s) =>
      s === "revoked"
        ? `machine ${id} is revoked for good; register the agent again with a new enrollment token`
        : `machine ${id} is ${s} and cannot be enabled`,
  });
  if (from) {
    await audit(deps, {
      actor,
      action: "agent.enable",
      target: `machine:${id}`,
      ip: actor.ip,
      details: { from, to: "offline" },
    });
  }
  return machine;
}

/**
 * Revokes the machine for good and cancels its queued jobs. Claimed or running jobs are
 * left to the job lifecycle: the agent can no longer renew their leases.
 */
export async function revokeMachine(
  deps: HubDeps,
  actor: UserActor,
  id: number,
): Promise<MachineRow> {
  const { machine, from } = await changeStatus(deps, id, {
    from: ["pending", "online", "offline", "disabled"],
    to: "revoked",
    refusal: (s) => `machine ${id} is ${s} and cannot be revoked`,
  });
  if (from) {
    const canceledJobIds = await cancelQueuedJobs(deps, id, REVOKED_JOB_MESSAGE);
    await audit(deps, {
      actor,
      action: "agent.revoke",
      target: `machine:${id}`,
      ip: actor.ip,
      details: { from, to: "revoked", canceled_job_ids: canceledJobIds },
    });
  }
  return machine;
}

export async function deleteMachine(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  const removal = await deps.store.machines.removeUnreferenced(id);
  if (removal.outcome === "removed") {
    deps.credentials.invalidate(id);
    deps.heartbeats.forget(id);
  }
  if (removal.outcome === "not_found") throw new AppError("not_found", `no machine ${id}`);
  if (removal.outcome === "referenced") {
    const n = removal.repositories;
    throw new AppError(
      "conflict",
      `machine ${id} is used by ${n} ${n === 1 ? "repository" : "repositories"}; delete ${n === 1 ? "it" : "them"} first`,
      { repositories: n },
    );
  }
  await audit(deps, {
    actor,
    action: "agent.delete",
    target: `machine:${id}`,
    ip: actor.ip,
  });
}

export async function cancelQueuedJobs(
  deps: HubDeps,
  machineId: number,
  message: string,
): Promise<number[]> {
  const ids = await deps.store.machines.cancelQueuedJobs(
    machineId,
    message,
    deps.clock(),
    "canceled",
  );
  for (const jobId of ids)
    deps.events.publish(jobId, { type: "status", data: { status: "canceled" } });
  return ids;
}

// --- the offline sweep ------------------------------------------------------------------

/** How many machines one pass of the offline sweep moves at once. */
export const OFFLINE_SWEEP_BATCH = 500;

/**
 * Marks online machines not heard from for settings.offlineAfterMs offline, one audit
 * event and one machine.offline notification (hub-events.ts) each. In batches of
 * OFFLINE_SWEEP_BATCH: one guarded UPDATE and one audit INSERT per batch, in one
 * transaction, then the event loop serves requests before the next batch, so a fleet
 * going quiet at once does not stall the hub. The composition root
 * calls this on a timer; tests call it after tick().
 */
export async function sweepOfflineAgents(deps: HubDeps): Promise<MachineRow[]> {
  await flushHeartbeats(deps); // the heartbeats of the last second count
  const now = deps.clock();
  const seenBefore = now - deps.settings.offlineAfterMs;
  const swept: MachineRow[] = [];
  for (;;) {
    const batch = await deps.store.transaction(async (tx) => {
      const stale = await tx.machines.markStaleOffline(seenBefore, now, OFFLINE_SWEEP_BATCH);
      stale.sort((a, b) => a.id - b.id);
      await tx.audit.appendMany(
        stale.map((machine) => ({
          actor: actorName(SYSTEM),
          action: "agent.status",
          target: `machine:${machine.id}`,
          ip: null,
          details: {
            from: "online",
            to: "offline",
            last_seen_at: machine.lastSeenAt === null ? null : toIso(machine.lastSeenAt),
          },
        })),
        now,
      );
      return stale;
    });
    swept.push(...batch);
    for (const machine of batch) {
      deps.heartbeats.forget(machine.id);
      await publishHubEvent(deps, {
        type: "machine.offline",
        machine: { id: machine.id, name: machine.name },
        lastSeenAt: machine.lastSeenAt,
      });
    }
    if (batch.length > 0) {
      deps.logger.child("audit").info("agent.status", {
        actor: actorName(SYSTEM),
        to: "offline",
        machines: batch.length,
        first: `machine:${batch[0]?.id}`,
      });
    }
    if (batch.length < OFFLINE_SWEEP_BATCH) return swept;
    await deps.sleep(0); // let requests in between batches
  }
}
