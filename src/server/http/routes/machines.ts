/**
 * /api/managed-machines: the user side of agent machines. Viewers list and read;
 * everything else (enrollment tokens, rename/labels, disable/enable/revoke, delete)
 * needs admin. Enrollment token values appear only in the creation answer.
 */
import type { Hono } from "hono";
import {
  CreateEnrollmentTokenRequest,
  type Machine,
  UpdateMachineRequest,
} from "../../../shared/protocol/api.ts";
import type { EnrollmentTokenRow, MachineRow } from "../../db/records.ts";
import type { HubDeps } from "../../deps.ts";
import {
  createEnrollmentToken,
  listEnrollmentTokens,
  revokeEnrollmentToken,
} from "../../services/enrollment.ts";
import {
  deleteMachine,
  disableMachine,
  enableMachine,
  getMachine,
  listMachines,
  revokeMachine,
  updateMachine,
} from "../../services/machines.ts";
import { toIso, toIsoOrNull } from "../../services/time.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import { agentDialect } from "../borg-ui-agent.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

const BASE = "/api/managed-machines";

/** The Machine wire shape: no credential hash or prefix. */
export const machineJson = (m: MachineRow): Machine => ({
  id: m.id,
  name: m.name,
  agent_id: m.agentId,
  hostname: m.hostname,
  os: m.os,
  arch: m.arch,
  agent_version: m.agentVersion,
  borg_versions: m.borgVersions,
  capabilities: m.capabilities,
  agent_dialect: agentDialect(m.capabilities),
  labels: m.labels,
  ssh_public_key: m.sshPublicKey,
  status: m.status,
  last_seen_at: toIsoOrNull(m.lastSeenAt),
  last_error: m.lastError,
  created_at: toIso(m.createdAt),
});

const enrollmentTokenJson = (t: EnrollmentTokenRow) => ({
  id: t.id,
  name: t.name,
  token_prefix: t.tokenPrefix,
  expires_at: toIso(t.expiresAt),
  used_at: toIsoOrNull(t.usedAt),
  used_by_agent_machine_id: t.usedByAgentMachineId,
  revoked_at: toIsoOrNull(t.revokedAt),
  created_at: toIso(t.createdAt),
});

export function machineRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const admin = requireUser(deps, "admin");
  const viewer = requireUser(deps, "viewer");

  // Registered before /:id so "enrollment-tokens" is never read as a machine id.
  app.post(
    `${BASE}/enrollment-tokens`,
    admin,
    validate("json", CreateEnrollmentTokenRequest),
    async (c) => {
      const { row, token } = await createEnrollmentToken(deps, actorOf(c), c.req.valid("json"));
      return c.json(
        {
          id: row.id,
          name: row.name,
          token,
          token_prefix: row.tokenPrefix,
          expires_at: toIso(row.expiresAt),
        },
        201,
      );
    },
  );
  app.get(`${BASE}/enrollment-tokens`, admin, async (c) =>
    c.json((await listEnrollmentTokens(deps)).map(enrollmentTokenJson)),
  );
  app.delete(`${BASE}/enrollment-tokens/:id`, admin, async (c) => {
    await revokeEnrollmentToken(deps, actorOf(c), idParam(c.req.param("id"), "enrollment token"));
    return c.body(null, 204);
  });

  app.get(BASE, viewer, async (c) => c.json((await listMachines(deps)).map(machineJson)));
  app.get(`${BASE}/:id`, viewer, async (c) =>
    c.json(machineJson(await getMachine(deps, idParam(c.req.param("id"), "machine")))),
  );
  app.patch(`${BASE}/:id`, admin, validate("json", UpdateMachineRequest), async (c) =>
    c.json(
      machineJson(
        await updateMachine(
          deps,
          actorOf(c),
          idParam(c.req.param("id"), "machine"),
          c.req.valid("json"),
        ),
      ),
    ),
  );
  const actions = { disable: disableMachine, enable: enableMachine, revoke: revokeMachine };
  for (const [action, run] of Object.entries(actions)) {
    app.post(`${BASE}/:id/${action}`, admin, async (c) =>
      c.json(machineJson(await run(deps, actorOf(c), idParam(c.req.param("id"), "machine")))),
    );
  }
  app.delete(`${BASE}/:id`, admin, async (c) => {
    await deleteMachine(deps, actorOf(c), idParam(c.req.param("id"), "machine"));
    return c.body(null, 204);
  });
}
