/**
 * The hub's job kinds, one line each. Keyed by every JobKind, so a kind added to the
 * protocol (shared/protocol/jobs/index.ts) does not compile here until it has its module.
 */
import type { JobKind } from "../../shared/protocol/agent.ts";
import { archiveBrowse } from "./archive-browse.ts";
import { archiveDownload } from "./archive-download.ts";
import { archiveExtract } from "./archive-extract.ts";
import { archiveList } from "./archive-list.ts";
import { backupCreate } from "./backup-create.ts";
import type { HubJobKind } from "./kind.ts";
import { repoBreakLock } from "./repo-break-lock.ts";
import { repoCheck } from "./repo-check.ts";
import { repoCompact } from "./repo-compact.ts";
import { repoInfo } from "./repo-info.ts";
import { repoInit } from "./repo-init.ts";
import { repoPrune } from "./repo-prune.ts";

export const HUB_JOB_KINDS: { readonly [K in JobKind]: HubJobKind<K> } = {
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

/**
 * The module of one kind. Typed for all kinds at once: a caller holding a job of some
 * kind hands it values of that same kind (its payload, its result read with that kind's
 * schema), which the compiler can't tie to the row's jobKind by itself.
 */
export const hubJobKind = (kind: JobKind): HubJobKind<JobKind> =>
  HUB_JOB_KINDS[kind] as HubJobKind<JobKind>;
