/**
 * archive.list: the repository's archives (`borg list --json`, `rlist`/`repo-list` in 2.x).
 * The list is the result, so it is required: a list job that could not read borg's output
 * fails; it never reports (or stores) an empty list in its place.
 */
import { z } from "zod";
import { defineJobKind, MAX_ARCHIVES } from "./common.ts";

export const ArchiveInfo = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string().optional(),
  time: z.string().optional(),
  hostname: z.string().optional(),
  username: z.string().optional(),
  comment: z.string().optional(),
});
export type ArchiveInfo = z.infer<typeof ArchiveInfo>;

export const archiveList = defineJobKind(
  "archive.list",
  {},
  { archives: z.array(ArchiveInfo).max(MAX_ARCHIVES) },
);
