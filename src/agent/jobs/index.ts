/**
 * The agent's job kinds, one line each. Keyed by every JobKind, so a kind added to the
 * protocol (shared/protocol/jobs/index.ts) does not compile here until it has its module.
 */
import type { JobKind, JobPayloadOf } from "../../shared/protocol/agent.ts";
import { archiveBrowse } from "./archive-browse.ts";
import { archiveDownload } from "./archive-download.ts";
import { archiveExtract } from "./archive-extract.ts";
import { archiveList } from "./archive-list.ts";
import { backupCreate } from "./backup-create.ts";
import type { AgentJobKind } from "./kind.ts";
import { repoBreakLock } from "./repo-break-lock.ts";
import { repoCheck } from "./repo-check.ts";
import { repoCompact } from "./repo-compact.ts";
import { repoInfo } from "./repo-info.ts";
import { repoInit } from "./repo-init.ts";
import { repoPrune } from "./repo-prune.ts";

export const AGENT_JOB_KINDS: { readonly [K in JobKind]: AgentJobKind<K> } = {
  "repo.init": repoInit,
  "backup.create": backupCreate,
  "repo.prune": repoPrune,
  "repo.compact": repoCompact,
  "repo.check": repoCheck,
  "repo.break_lock": repoBreakLock,
  "archive.list": archiveList,
  "repo.info": repoInfo,
  "archive.browse": archiveBrowse,
  "archive.extract": archiveExtract,
  "archive.download": archiveDownload,
};

/** The module that runs `payload`, typed for its kind. */
export function agentJobKind<K extends JobKind>(payload: JobPayloadOf<K>): AgentJobKind<K> {
  return AGENT_JOB_KINDS[payload.job_kind as K] as AgentJobKind<K>;
}
