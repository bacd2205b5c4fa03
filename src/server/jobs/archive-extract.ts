/**
 * archive.extract on the hub: the payload's restore block comes from the request
 * (services/restore.ts parsed it); restores do not exclude each other (borg extract takes
 * a shared lock); the job keeps the counts and, for a dry run, the names. A restore onto
 * another machine ran with a key lent on the box: it is returned as soon as the job ends,
 * whoever ended it (services/lent-box-keys.ts; the sweep retries what fails here).
 */

import { AppError } from "../../shared/errors.ts";
import { TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { StoredJobResult } from "../db/records.ts";
import { returnKeysOfJob } from "../services/lent-box-keys.ts";
import type { HubJobKind, JobOptions } from "./kind.ts";

function restoreBlock(options: JobOptions) {
  if (!options.restore) throw new AppError("validation_failed", "archive.extract needs a restore");
  return options.restore;
}

export const archiveExtract: HubJobKind<"archive.extract"> = {
  exclusive: false,
  checkRequest: (options) => void restoreBlock(options),
  blocks: (_repository, options) => ({ restore: restoreBlock(options) }),
  stored(result) {
    const stored: StoredJobResult = { files: result.files, bytes: result.bytes };
    if (result.listed !== undefined) stored.listed = result.listed;
    return stored;
  },
  async transitioned(deps, job) {
    if (!TERMINAL_JOB_STATUSES.includes(job.status)) return;
    try {
      await returnKeysOfJob(deps, job.id);
    } catch (error) {
      deps.logger
        .child("lent-keys")
        .warn("returning a job's lent keys failed; the sweep tries again", {
          job: job.id,
          error: (error as Error).message,
        });
    }
  },
};
