/**
 * Agent machines, the agent's side: registration with an enrollment token, heartbeats
 * (facts, status, lease renewal, cancel requests) and unregistering. The admin actions
 * and the offline sweep are in services/machines.ts.
 *
 * Status machine (every change is one guarded UPDATE, audited):
 *   register → pending;  heartbeat: pending|offline → online;  sweep: online → offline
 *   admin disable: pending|online|offline → disabled;  admin enable: disabled → offline
 *   admin revoke / agent unregister: anything but revoked → revoked (permanent)
 * Only pending/online/offline credentials may act; the agent routes refuse the others.
 */
import { AppError } from "../../shared/errors.ts";
import type { HeartbeatRequest, RegisterRequest } from "../../shared/protocol/agent.ts";
import { parseSshPublicKey } from "../../shared/ssh-key.ts";
import { type MachineRow, RUNTIME_STATUSES } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { AgentActor } from "./actor.ts";
import { type VerifiedAgent, verifiedAgentOf } from "./agent-credentials.ts";
import { audit } from "./audit.ts";
import { enrollmentRefusalReason } from "./enrollment.ts";
import { flushHeartbeats, heartbeatFingerprint } from "./heartbeat-batch.ts";
import { cancelQueuedJobs, recordAgentLabels } from "./machines.ts";
import { hashToken, newPublicId, newToken, tokenKind } from "./tokens.ts";

/** One answer for every refused enrollment token, so a caller learns nothing about it. */
export const ENROLLMENT_REFUSED =
  "enrollment token is unknown, expired, revoked or already used; create a new one";

/** The error_message of queued jobs canceled because their agent left for good. */
const UNREGISTERED_JOB_MESSAGE = "agent unregistered";

/**
 * Validates an SSH public key from an agent and returns its normalised `type base64`
 * form (the comment is dropped: it is free text that never needs to reach a box).
 */
function normaliseSshKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const parsed = parseSshPublicKey(key);
  if (!parsed.ok) {
    throw new AppError("validation_failed", `ssh_public_key: ${parsed.reason}`, [
      { path: "ssh_public_key", message: parsed.reason },
    ]);
  }
  return `${parsed.key.type} ${parsed.key.base64}`;
}

// --- runtime: authenticate, register, heartbeat, unregister ---------------------------

/** An agent credential's machine when it may act now; otherwise why not, for the log only. */
export type AgentAuthentication =
  | { ok: true; machine: VerifiedAgent }
  | { ok: false; reason: string; machineId?: number };

/**
 * Looks an `X-Borg-Agent-Authorization` token up by hash: in deps.credentials first
 * (services/agent-credentials.ts: whatever takes a machine's right to act away
 * invalidates it there at once), else in the store. Only a pending or online/offline
 * machine may act: a disabled or revoked credential is refused at once.
 */
export async function authenticateAgent(
  deps: HubDeps,
  token: string,
): Promise<AgentAuthentication> {
  if (tokenKind(token) !== "agent") return { ok: false, reason: "unknown credential" };
  const tokenHash = hashToken(token);
  const known = deps.credentials.get(tokenHash);
  if (known) return { ok: true, machine: known };
  return lookUpAgent(deps, tokenHash);
}

/**
 * authenticateAgent's answer when the credential is in deps.credentials, without a
 * promise: a fleet's steady polls and heartbeats are all answered from there (the route's
 * middleware, http/agent-auth.ts). Undefined: ask authenticateAgent.
 */
export function knownAgent(deps: HubDeps, token: string): VerifiedAgent | undefined {
  if (tokenKind(token) !== "agent") return undefined;
  return deps.credentials.get(hashToken(token));
}

async function lookUpAgent(deps: HubDeps, tokenHash: string): Promise<AgentAuthentication> {
  const ticket = deps.credentials.ticket();
  const machine = await deps.store.machines.byTokenHash(tokenHash);
  if (!machine) return { ok: false, reason: "unknown credential" };
  const verified = verifiedAgentOf(machine);
  if (!verified) return { ok: false, reason: `machine ${machine.status}`, machineId: machine.id };
  deps.credentials.remember(tokenHash, verified, ticket);
  return { ok: true, machine: verified };
}

/**
 * Registers a machine: the enrollment token is consumed and the machine created in one
 * transaction (see enrollment queries), so a failed insert leaves the token usable and
 * racing registrations have one winner. The protocol version is checked by the route.
 */
export async function registerAgent(
  deps: HubDeps,
  request: RegisterRequest,
  ip: string,
): Promise<{ machine: MachineRow; agentToken: string }> {
  // Checked before the token is touched: a bad key must not burn a good token.
  const sshPublicKey = normaliseSshKey(request.ssh_public_key) ?? null;
  const { token: agentToken, hash, prefix } = newToken("agent");
  const agentId = newPublicId("agt");
  const now = deps.clock();
  const redeemed =
    tokenKind(request.enrollment_token) === "enroll"
      ? await deps.store.enrollment.redeem(hashToken(request.enrollment_token), now, {
          name: request.name ?? request.hostname,
          agentId,
          tokenHash: hash,
          tokenPrefix: prefix,
          hostname: request.hostname,
          os: request.os,
          arch: request.arch,
          agentVersion: request.agent_version,
          protocolVersion: request.protocol_version,
          borgVersions: request.borg_versions,
          capabilities: request.capabilities,
          sshPublicKey,
          status: "pending",
        })
      : undefined;
  if (!redeemed) {
    const reason = await enrollmentRefusalReason(deps, request.enrollment_token);
    const delay = deps.agentAuthThrottle.recordFailure(ip);
    await audit(deps, {
      actor: "anonymous",
      action: "agent.register_failed",
      ip,
      details: { reason, hostname: request.hostname },
    });
    if (delay > 0) await deps.sleep(delay);
    throw new AppError("unauthorized", ENROLLMENT_REFUSED);
  }
  const created = await deps.store.machines.byId(redeemed.machineId);
  if (!created) throw new Error(`machine ${redeemed.machineId} vanished after registration`);
  const machine = await recordAgentLabels(deps, created, request.labels);
  const actor: AgentActor = { kind: "agent", machineId: machine.id, agentId: machine.agentId, ip };
  await audit(deps, {
    actor,
    action: "enrollment.use",
    target: `enrollment_token:${redeemed.tokenId}`,
    ip,
    details: { machine_id: machine.id },
  });
  await audit(deps, {
    actor,
    action: "agent.register",
    target: `machine:${machine.id}`,
    ip,
    details: {
      name: machine.name,
      hostname: machine.hostname,
      os: machine.os,
      arch: machine.arch,
      agent_version: machine.agentVersion,
      protocol_version: machine.protocolVersion,
      enrollment_token_id: redeemed.tokenId,
    },
  });
  return { machine, agentToken };
}

/**
 * A heartbeat: records the reported facts, brings the machine online (audited when that
 * is a change), renews the leases of the listed jobs that are this agent's and still
 * running, and answers which of its jobs the user asked to cancel (from the notifier's
 * memory while it knows there are none). One that would change nothing but last_seen_at
 * is coalesced with the others of its second (services/heartbeat-batch.ts).
 */
export async function recordHeartbeat(
  deps: HubDeps,
  agent: AgentActor,
  request: HeartbeatRequest,
): Promise<{ serverTime: number; cancelJobIds: number[]; renewedJobIds: number[] }> {
  if (request.agent_id !== agent.agentId) {
    deps.logger.child("agents").warn("heartbeat for another agent_id refused", {
      machine: agent.machineId,
      ip: agent.ip,
    });
    throw new AppError("forbidden", "agent_id does not match this agent's credential");
  }
  const sshPublicKey = normaliseSshKey(request.ssh_public_key);
  const now = deps.clock();
  const facts = {
    hostname: request.hostname,
    agentVersion: request.agent_version,
    protocolVersion: request.protocol_version,
    borgVersions: request.borg_versions,
    capabilities: request.capabilities,
    sshPublicKey,
    lastError: request.last_error,
  };
  const fingerprint = heartbeatFingerprint(facts, request.labels);
  // Nothing but last_seen_at would change: written with the others of this second.
  if (
    request.running_job_ids.length === 0 &&
    deps.heartbeats.defer(agent.machineId, fingerprint, now, () => void flushHeartbeats(deps))
  ) {
    return { serverTime: now, cancelJobIds: await cancelRequests(deps, agent), renewedJobIds: [] };
  }
  const recorded = await deps.store.machines.recordHeartbeat(agent.machineId, facts, now);
  // Disabled or revoked after the credential check: refused like any such credential.
  if (!recorded) {
    throw new AppError("unauthorized", "agent credential missing, unknown, disabled or revoked");
  }
  await recordAgentLabels(deps, recorded.machine, request.labels);
  if (recorded.previousStatus !== "online") {
    await audit(deps, {
      actor: agent,
      action: "agent.status",
      target: `machine:${agent.machineId}`,
      ip: agent.ip,
      details: { from: recorded.previousStatus, to: "online" },
    });
  }
  deps.heartbeats.recorded(agent.machineId, fingerprint, facts, now);
  const renewedJobIds = await deps.store.machines.renewLeases(
    agent.machineId,
    request.running_job_ids,
    now + deps.settings.leaseMs,
  );
  return { serverTime: now, cancelJobIds: await cancelRequests(deps, agent), renewedJobIds };
}

/**
 * The agent's cancel_requested jobs: none without a query while the notifier knows it has
 * none (a cancel request notifies its agent: services/jobs.ts cancelJob).
 */
async function cancelRequests(deps: HubDeps, agent: AgentActor): Promise<number[]> {
  const { notifier } = deps;
  if (notifier.knownNone(agent.machineId, "cancel_requested")) return [];
  const ticket = notifier.lookupTicket(agent.machineId);
  const ids = await deps.store.machines.cancelRequestedJobIds(agent.machineId);
  if (ids.length === 0) notifier.recordNone(agent.machineId, "cancel_requested", ticket);
  return ids;
}

/** The agent leaves: its credential is revoked for good and its queued jobs canceled. */
export async function unregisterAgent(deps: HubDeps, agent: AgentActor): Promise<void> {
  const now = deps.clock();
  const revoked = await deps.store.machines.transition(
    agent.machineId,
    RUNTIME_STATUSES,
    "revoked",
    now,
  );
  deps.credentials.invalidate(agent.machineId);
  deps.heartbeats.forget(agent.machineId);
  if (!revoked) {
    throw new AppError("unauthorized", "agent credential missing, unknown, disabled or revoked");
  }
  const canceledJobIds = await cancelQueuedJobs(deps, agent.machineId, UNREGISTERED_JOB_MESSAGE);
  await audit(deps, {
    actor: agent,
    action: "agent.unregister",
    target: `machine:${agent.machineId}`,
    ip: agent.ip,
    details: { canceled_job_ids: canceledJobIds },
  });
}
