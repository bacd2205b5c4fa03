/**
 * What a finished job's page shows about its outcome: a completed backup's sizes and
 * file count (from the result borg reported), and whether the job failed. Pure.
 */
import type { Job } from "../shared/protocol/api.ts";
import { formatBytes } from "./format.ts";

export interface Fact {
  label: string;
  value: string;
}

/** The backup's stats as labelled facts, or [] when the job is no backup or has none. */
export function backupStatsFacts(job: Job): Fact[] {
  const stats = job.result?.stats;
  if (job.type !== "backup.create" || !stats) return [];
  return [
    { label: "Original size", value: formatBytes(stats.original_size) },
    { label: "Compressed size", value: formatBytes(stats.compressed_size) },
    { label: "Deduplicated size", value: formatBytes(stats.deduplicated_size) },
    { label: "Files", value: stats.nfiles.toLocaleString("en-US") },
  ];
}

/** The failure to show prominently: the hub's or borg's message, or a fallback. */
export function failureMessage(job: Job): string | null {
  if (job.status !== "failed") return null;
  return job.error_message?.trim() || "The job failed without a message; see the log below.";
}
