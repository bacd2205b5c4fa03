/**
 * archive.download on the hub: the payload names the file and its size (from the
 * archive's listing; services/archive-download.ts checked both); the bytes arrive in
 * chunks while the job runs and go straight to the browser that waits on a replica.
 * When the job ends, however it ends and on whichever replica, that browser's stream
 * ends with it: services/archive-download.ts follows the job's status events for that.
 */
import { AppError } from "../../shared/errors.ts";
import type { HubJobKind, JobOptions } from "./kind.ts";

function downloadBlock(options: JobOptions) {
  if (!options.download) throw new AppError("validation_failed", "archive.download needs a file");
  return options.download;
}

export const archiveDownload: HubJobKind<"archive.download"> = {
  exclusive: false,
  checkRequest: (options) => void downloadBlock(options),
  blocks: (_repository, options) => ({ download: downloadBlock(options) }),
  stored: (result) => ({ bytes: result.bytes }),
};
