/**
 * archive.download: one file of an archive, streamed to a browser through the hub
 * (`borg extract --stdout`). The bytes do not travel in the result: the agent uploads
 * them while the job runs, in order, as raw chunks of at most MAX_DOWNLOAD_CHUNK_BYTES
 * (POST /api/agents/jobs/{id}/download?offset=N, application/octet-stream), and the hub
 * hands each one to the waiting browser before it answers, so a slow browser slows the
 * agent and nothing piles up in between. `size` is the file's size in the archive's
 * listing, the Content-Length the browser was promised: the agent refuses to send more,
 * and a download that ends short fails the job. The result counts what was sent.
 */
import { z } from "zod";
import { OneLine, Text } from "../common.ts";
import { MAX_MEMBER_PATH_CHARS } from "./archive-browse.ts";
import { defineJobKind, MAX_ARCHIVE_NAME_CHARS, Size } from "./common.ts";

/** The most one upload carries (the hub's body limit for agents is far above it). */
export const MAX_DOWNLOAD_CHUNK_BYTES = 4 * 1024 * 1024;

export const DownloadBlock = z.object({
  archive: OneLine(MAX_ARCHIVE_NAME_CHARS),
  /** One member path (borg's spelling, no leading "/"): a regular file. */
  path: Text(MAX_MEMBER_PATH_CHARS).min(1),
  /** Its size in bytes, from the archive's listing. */
  size: Size,
});
export type DownloadBlock = z.infer<typeof DownloadBlock>;

/** The query of one chunk's upload: where in the file it starts (decimal digits only). */
export const DownloadChunkQuery = z.object({
  offset: z
    .string()
    .regex(/^\d{1,16}$/, "must be a byte offset (decimal digits)")
    .transform(Number)
    .pipe(Size),
});

export const archiveDownload = defineJobKind(
  "archive.download",
  { download: DownloadBlock },
  { bytes: Size },
);
