/**
 * Every job kind, one line each: agent.ts builds JOB_KINDS and the JobPayload union from
 * this list, and the agent (src/agent/jobs/index.ts) and the hub (src/server/jobs/index.ts)
 * each keep a registry keyed by these kinds, which the compiler checks is complete.
 * Adding a kind: a file next to this one (see repo-compact.ts for the smallest), a line
 * here, and one module and registry line on each side (docs/ARCHITECTURE.md).
 */
import { archiveBrowse } from "./archive-browse.ts";
import { archiveDownload } from "./archive-download.ts";
import { archiveExtract } from "./archive-extract.ts";
import { archiveList } from "./archive-list.ts";
import { backupCreate } from "./backup-create.ts";
import { repoBreakLock } from "./repo-break-lock.ts";
import { repoCheck } from "./repo-check.ts";
import { repoCompact } from "./repo-compact.ts";
import { repoInfo } from "./repo-info.ts";
import { repoInit } from "./repo-init.ts";
import { repoPrune } from "./repo-prune.ts";

/** In the order the kinds were added (JOB_KINDS keeps it). */
export const JOB_KIND_PROTOCOLS = [
  repoInit,
  backupCreate,
  repoPrune,
  repoCompact,
  repoCheck,
  repoBreakLock,
  archiveList,
  repoInfo,
  archiveBrowse,
  archiveExtract,
  archiveDownload,
] as const;
