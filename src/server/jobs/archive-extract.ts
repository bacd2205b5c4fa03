/**
 * archive.extract on the hub: the payload's restore block comes from the request
 * (services/restore.ts parsed it); restores do not exclude each other (borg extract takes
 * a shared lock); the job keeps the counts and, for a dry run, the names.
 */
import { AppError } from "../../shared/errors.ts";
import type { StoredJobResult } from "../db/records.ts";
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
};
