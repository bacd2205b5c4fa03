/**
 * /api/boxes: storage boxes the hub manages (borgbox-compatible boxes it talks to over
 * HTTP with their bearer token, and whose repos agents reach over SSH). Re-exported by
 * api.ts. The token goes in, never out: no answer carries it.
 */
import { z } from "zod";
import { OneLine, UncheckedTimestamp } from "./common.ts";

const Id = z.number().int().positive();
const Port = z.number().int().min(1).max(65535);
/** Checked as a user name by the hub (it ends up in ssh's argv through the location). */
const SshUser = z.string().min(1).max(32);
/** A DNS name, IPv4 or bracketed IPv6; checked as a host by the hub. */
const SshHost = z.string().min(1).max(255);
const BoxToken = z
  .string()
  .min(1, "is required")
  .max(4096)
  .refine((t) => /^[\x21-\x7e]+$/.test(t), "must be printable ASCII without spaces");

export const CreateBoxRequest = z.strictObject({
  name: OneLine(128).min(1),
  /** The box's base URL, e.g. http://box.lan:9999 (a trailing /api/v1 is accepted). */
  url: z.string().min(1).max(2048),
  token: BoxToken,
  /** How agents reach the box over SSH; default: the URL's host. */
  ssh_host: SshHost.optional(),
  ssh_port: Port.default(22),
  ssh_user: SshUser.default("borg"),
});
export type CreateBoxRequest = z.infer<typeof CreateBoxRequest>;

export const UpdateBoxRequest = z.strictObject({
  name: OneLine(128).min(1).optional(),
  url: z.string().min(1).max(2048).optional(),
  token: BoxToken.optional(),
  ssh_host: SshHost.optional(),
  ssh_port: Port.optional(),
  ssh_user: SshUser.optional(),
});
export type UpdateBoxRequest = z.infer<typeof UpdateBoxRequest>;

export const BoxStatus = z.enum(["online", "offline"]);

export const Box = z.object({
  id: Id,
  name: z.string(),
  url: z.string(),
  ssh_host: z.string(),
  ssh_port: z.number().int(),
  ssh_user: z.string(),
  status: BoxStatus,
  last_seen_at: UncheckedTimestamp.nullable(),
  last_error: z.string().nullable(),
  version: z.string().nullable(),
  borg_version: z.string().nullable(),
  free_bytes: z.number().nullable(),
  total_bytes: z.number().nullable(),
  repo_count: z.number().int().nullable(),
  ssh_host_keys: z.array(z.string()),
  created_at: UncheckedTimestamp,
});
export type Box = z.infer<typeof Box>;

/** One repo of a box as the box listed it, with the hub repository that uses it (if any). */
export const BoxRepo = z.object({
  name: z.string(),
  path: z.string(),
  size_bytes: z.number(),
  initialized: z.boolean(),
  last_write_at: UncheckedTimestamp.nullable(),
  append_only: z.boolean(),
  registered: z.boolean(),
  repository_id: Id.nullable(),
});
export type BoxRepo = z.infer<typeof BoxRepo>;

export const BoxRepoList = z.object({
  repos: z.array(BoxRepo),
  listed_at: UncheckedTimestamp.nullable(),
});
export type BoxRepoList = z.infer<typeof BoxRepoList>;
