/**
 * The one adapter between the hub's agent protocol and Borg UI's own agent
 * (`borg-ui-agent` 0.1.x, agent/borg_ui_agent/ in the public karanhudia/borg-ui
 * repository), so that agent works against this hub unchanged. Everything else in the
 * hub speaks the protocol as protocol/agent.ts writes it; what that agent does
 * differently is translated here, at the HTTP edge, and only for such an agent.
 *
 * Which agent it is: chosen from what it reports at register and every heartbeat. Borg
 * UI's agent names its job kinds `repository.init`, `repository.list_archives`, …
 * (runtime.py DEFAULT_CAPABILITIES); borgctl's agent and the spec's examples name none
 * that way. So an agent whose capabilities include a `repository.*` kind speaks the
 * "borg-ui" dialect, every other the "spec" one.
 *
 * What it does differently, and what this file does about it:
 * - It runs the payload of the POLL answer (runtime.py run_once: `job.get("payload")`)
 *   and ignores the claim's. So its poll answer carries the payload in its names: the
 *   kind as `repository.init`, `repository.list_archives`, …, the location as
 *   `repository.path`, each kind's settings under `operation` (backup's under `backup`,
 *   as ours), and the hub-held passphrase as `secrets.BORG_PASSPHRASE` (backup.py
 *   _extract_environment). The passphrase in a poll answer is the one rule bent for it,
 *   and only for it: a poll lists only the polling agent's own queued jobs, so it still
 *   reaches only the agent the job is assigned to — the same agent the claim would give
 *   it to a moment later.
 * - A list result comes under `result.data` (borg's --json document; repository_ops.py
 *   _execute_short_repository_operation): its `archives` become the result's.
 * - It sends a command's whole stdout as one log entry: a message longer than the
 *   protocol's cap is cut with a marker instead of refused (a 400 would stop its `once`
 *   with the job left running until its lease expires).
 * Its other calls (register, heartbeat, claim without a body, start, progress, fail,
 * `/cancel`, unregister) already are the protocol's; extra fields are dropped as for
 * every agent. Its `run` command needs a WebSocket session that is not in the spec:
 * only `borg-ui-agent once` (from a timer) talks to this hub.
 */
import type { MiddlewareHandler } from "hono";
import {
  type JobKind,
  JobPayload,
  type JobPayloadUnion,
  MAX_ARCHIVES,
  MAX_LOG_MESSAGE_CHARS,
} from "../../shared/protocol/agent.ts";
import type { JobRow } from "../db/records.ts";
import { jobSummaryJson } from "../services/job-json.ts";
import type { HubEnv } from "./context.ts";

export { type AgentDialect, agentDialect } from "../services/agent-dialect.ts";

/**
 * Each hub kind under the name Borg UI's agent runs it by (runtime.py JOB_HANDLERS). It has
 * no archive.browse/archive.extract: the hub queues those only to agents whose
 * capabilities name them, which Borg UI's do not.
 */
export const BORG_UI_JOB_KINDS: Partial<Record<JobKind, string>> = {
  "repo.init": "repository.init",
  "backup.create": "backup.create",
  "repo.prune": "repository.prune",
  "repo.compact": "repository.compact",
  "repo.check": "repository.check",
  "repo.break_lock": "repository.break_lock",
  "archive.list": "repository.list_archives",
  "repo.info": "repository.info",
};

/**
 * The kind's settings as Borg UI's agent reads them: `operation` for its repository
 * kinds (repository_ops.py build_command), `backup` for backup.create (backup.py
 * BackupCreatePayload: the same four names as ours). Only values the hub built and
 * checked (protocol/borg-values.ts) are passed; its `custom_flags`, `remote_path` and
 * `borg_binary` are never set, and check's two switches are its borg flags.
 */
function borgUiBlocks(payload: JobPayloadUnion): Record<string, unknown> {
  switch (payload.job_kind) {
    case "backup.create":
      return { backup: payload.backup };
    case "repo.init":
      return { operation: { encryption: payload.init.encryption } };
    case "repo.prune":
      return { operation: payload.prune };
    case "repo.check": {
      const flags = [
        ...(payload.check.repository_only ? ["--repository-only"] : []),
        ...(payload.check.verify_data ? ["--verify-data"] : []),
      ];
      return { operation: { check_extra_flags: flags } };
    }
    default:
      return { operation: {} };
  }
}

/**
 * One job of a poll answer for a Borg UI agent: the summary every agent gets, with `type`
 * and the payload in its names, and the passphrase when the hub holds it (see header).
 */
export function borgUiPolledJob(row: JobRow, passphrase: string | undefined) {
  const payload = JobPayload.parse(row.payload);
  const kind = BORG_UI_JOB_KINDS[payload.job_kind] ?? payload.job_kind;
  const { repository } = payload;
  return {
    ...jobSummaryJson(row),
    type: kind,
    payload: {
      schema_version: payload.schema_version,
      job_id: payload.job_id,
      job_kind: kind,
      repository: {
        id: repository.id,
        name: repository.name,
        path: repository.location,
        borg_version: repository.borg_version,
        encryption: repository.encryption,
      },
      ...borgUiBlocks(payload),
      secrets: passphrase === undefined ? {} : { BORG_PASSPHRASE: passphrase },
    },
  };
}

// --- uploads ----------------------------------------------------------------------------

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A log message the protocol can hold: cut at the cap with a marker, NULs replaced. */
function fitLogMessage(message: unknown): unknown {
  if (typeof message !== "string") return message;
  const text = message.replaceAll("\0", "\uFFFD");
  const chars = Array.from(text);
  if (chars.length <= MAX_LOG_MESSAGE_CHARS) return text;
  const marker = `\n… [cut by the hub: ${chars.length - MAX_LOG_MESSAGE_CHARS + 64} more characters]`;
  return chars.slice(0, MAX_LOG_MESSAGE_CHARS - 64).join("") + marker;
}

function fitLogs(body: unknown): unknown {
  if (!isRecord(body)) return body;
  if (Array.isArray(body.entries)) {
    return {
      ...body,
      entries: body.entries.map((e) =>
        isRecord(e) ? { ...e, message: fitLogMessage(e.message) } : e,
      ),
    };
  }
  return { ...body, message: fitLogMessage(body.message) };
}

/** `result.data.archives` (borg list --json) → `result.archives`, newest MAX_ARCHIVES. */
function liftResultData(body: unknown): unknown {
  if (!isRecord(body) || !isRecord(body.result)) return body;
  const { result } = body;
  const data = isRecord(result.data) ? result.data : undefined;
  if (result.archives !== undefined || !Array.isArray(data?.archives)) return body;
  return { ...body, result: { ...result, archives: data.archives.slice(-MAX_ARCHIVES) } };
}

const UPLOAD_REWRITES = { logs: fitLogs, complete: liftResultData } as const;

/**
 * Before the route's validator: a Borg UI agent's upload body rewritten into the
 * protocol's shape. Any other agent's body, and a body that is not valid UTF-8 JSON
 * (the validator refuses it as for everyone), pass untouched.
 */
export function borgUiUpload(route: keyof typeof UPLOAD_REWRITES): MiddlewareHandler<HubEnv> {
  const rewrite = UPLOAD_REWRITES[route];
  return async (c, next) => {
    if (c.get("agent")?.dialect !== "borg-ui") return next();
    let body: unknown;
    try {
      const bytes = await c.req.arrayBuffer();
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      return next();
    }
    // Hono's body cache is what the validator reads the JSON from (and the UTF-8 check
    // the bytes): the rewritten text replaces the request's. Hono types the cache as
    // Body's methods but stores their promises (hono/dist/request.js #cachedBody).
    const text = Promise.resolve(JSON.stringify(rewrite(body)));
    c.req.bodyCache = { text } as unknown as typeof c.req.bodyCache;
    return next();
  };
}
