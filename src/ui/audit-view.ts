/**
 * The audit page's pure formatting: one readable line per event ("admin created
 * enrollment token laptop"), its details as compact JSON for the on-demand view, and the
 * actions to offer in the filter. Names come from what the page loaded (machines,
 * repositories) or the event's own details; an unknown action still reads as words. Pure.
 */
import { humanize, jobKindLabel } from "./format.ts";
import { triggeredByLabel } from "./job-names.ts";

export interface AuditEventLike {
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditNames {
  machines: readonly { id: number; name: string }[];
  repositories: readonly { id: number; name: string }[];
}

/** `{"fields":["name"]}` for a details object; "–" when there are none. */
export function auditDetails(details: Record<string, unknown> | null): string {
  if (details === null) return "–";
  const text = JSON.stringify(details);
  return text === "{}" ? "–" : text;
}

/** The actions to offer in the filter: the ones seen so far, sorted, each once. */
export function auditActions(events: readonly { action: string }[]): string[] {
  return [...new Set(events.map((e) => e.action))].sort();
}

/** What each action did, as a verb phrase before its target. */
const VERBS: Record<string, string> = {
  "auth.login": "signed in",
  "auth.logout": "signed out",
  "auth.login_failed": "failed to sign in",
  "auth.login_blocked": "was blocked from signing in (too many attempts)",
  "user.bootstrap": "created the first admin",
  "user.create": "created user",
  "user.update": "changed user",
  "user.delete": "deleted user",
  "api_token.create": "created API token",
  "api_token.revoke": "revoked API token",
  "enrollment.create": "created enrollment token",
  "enrollment.revoke": "revoked enrollment token",
  "enrollment.use": "used enrollment token",
  "agent.register": "registered as",
  "agent.register_failed": "failed to register a machine",
  "agent.unregister": "unregistered",
  "agent.update": "changed machine",
  "agent.disable": "disabled machine",
  "agent.enable": "enabled machine",
  "agent.revoke": "revoked machine",
  "agent.delete": "deleted machine",
  "agent.status": "marked",
  "repository.create": "created repository",
  "repository.update": "changed repository",
  "repository.delete": "deleted repository",
  "job.queue": "queued",
  "job.claim": "claimed",
  "job.start": "started",
};

const text = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

function findName(list: readonly { id: number; name: string }[] | undefined, id: number) {
  return list?.find((x) => x.id === id)?.name;
}

function actorLabel(actor: string, names: AuditNames | undefined): string {
  const agent = /^agent:(\d+):/.exec(actor);
  if (agent) {
    const name = findName(names?.machines, Number(agent[1]));
    return name ? `machine ${name}` : `machine #${agent[1]}`;
  }
  if (actor === "anonymous") return "someone";
  return triggeredByLabel(actor);
}

function targetLabel(event: AuditEventLike, names: AuditNames | undefined): string {
  const d = event.details ?? {};
  const [kind = "", rawId = ""] = (event.target ?? "").split(":");
  const id = Number(rawId);
  switch (kind) {
    case "machine":
      return text(d.name) ?? findName(names?.machines, id) ?? `#${rawId}`;
    case "repository":
      return text(d.name) ?? findName(names?.repositories, id) ?? `#${rawId}`;
    case "job": {
      const jobKind = text(d.job_kind);
      const repo = findName(names?.repositories, Number(d.repository_id));
      const what = jobKind ? jobKindLabel(jobKind).toLowerCase() : "job";
      return `${what}${repo ? ` of ${repo}` : ""} (job #${rawId})`;
    }
    case "":
      return "";
    default:
      return text(d.name) ?? text(d.username) ?? `#${rawId}`;
  }
}

/** "admin created enrollment token laptop", "someone failed to sign in as bob", … */
export function auditSummary(event: AuditEventLike, names?: AuditNames): string {
  const d = event.details ?? {};
  const actor = actorLabel(event.actor, names);
  const verb = VERBS[event.action] ?? humanize(event.action);
  if (event.action === "auth.login_failed" || event.action === "auth.login_blocked") {
    const who = text(d.username);
    return `${actor} ${verb}${who ? ` as ${who}` : ""}`;
  }
  if (event.action === "agent.status") {
    const to = text(d.to);
    return `${targetLabel(event, names)} went ${to ?? "to another status"}`;
  }
  const target = targetLabel(event, names);
  const fields = Array.isArray(d.fields) ? d.fields.filter((f) => typeof f === "string") : [];
  const changed = fields.length ? ` (${fields.map((f) => humanize(String(f))).join(", ")})` : "";
  return [actor, verb, target].filter(Boolean).join(" ") + changed;
}
