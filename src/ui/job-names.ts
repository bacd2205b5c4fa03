/**
 * Jobs described in words: "Backup of laptop-home (on vm), started by admin", from the
 * repositories and machines the page has loaded; `triggered_by` ("user:1:admin",
 * "api_token:3", "scheduler", "system") as a person or a word, never an internal id. Pure.
 */
import type { Job, Machine, Repository } from "../shared/protocol/api.ts";
import { jobKindLabel } from "./format.ts";

export interface JobNames {
  repositories: readonly Pick<Repository, "id" | "name">[];
  machines: readonly Pick<Machine, "id" | "name">[];
}

/** "user:1:admin" → "admin"; "scheduler" → "the schedule"; "system" → "the hub". */
export function triggeredByLabel(triggeredBy: string): string {
  const user = /^user:\d+:(.+)$/.exec(triggeredBy);
  if (user?.[1]) return user[1];
  const token = /^api_token:(\d+)$/.exec(triggeredBy);
  if (token) return `an API token (#${token[1]})`;
  if (triggeredBy === "scheduler") return "the schedule";
  const plan = /^plan:(\d+)$/.exec(triggeredBy);
  if (plan) return `plan #${plan[1]}`;
  if (triggeredBy === "system") return "the hub";
  if (/^agent:/.test(triggeredBy)) return "the machine's agent";
  return triggeredBy;
}

export function machineLabel(names: JobNames | undefined, id: number): string {
  return names?.machines.find((m) => m.id === id)?.name ?? `machine #${id}`;
}

export function repositoryLabel(names: JobNames | undefined, id: number | null): string | null {
  if (id === null) return null;
  return names?.repositories.find((r) => r.id === id)?.name ?? `repository #${id}`;
}

/** Kinds whose heading label does not read as a noun in "… of laptop-home". */
const SUMMARY_NOUNS: Record<string, string> = {
  "repo.init": "Initialization",
  "repo.break_lock": "Lock break",
  "archive.list": "Archive listing",
  "repo.info": "Info",
  "archive.browse": "Archive browsing",
};

/** "Backup of laptop-home (on vm), started by admin"; without a repository: "Backup on vm, …". */
export function jobSummary(job: Job, names: JobNames | undefined): string {
  const kind = SUMMARY_NOUNS[job.type] ?? jobKindLabel(job.type);
  const repo = repositoryLabel(names, job.repository_id);
  const machine = machineLabel(names, job.agent_machine_id);
  const what = repo ? `${kind} of ${repo} (on ${machine})` : `${kind} on ${machine}`;
  return `${what}, started by ${triggeredByLabel(job.triggered_by)}`;
}
