/**
 * The box API (borgbox-compatible, base /api/v1). Field names are exactly what existing
 * borgbox clients decode; the hub's box client decodes with these same schemas.
 * Request bodies are strict: an unknown field is a 400, not silently ignored.
 */
import { z } from "zod";
import { UncheckedTimestamp } from "./common.ts";

export const BOX_API_PREFIX = "/api/v1";

/** borgbox's rule; it also excludes ".", ".." and "/" by construction. */
export const REPO_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const RepoName = z
  .string()
  .regex(
    REPO_NAME_RE,
    "must be 1-63 characters of lowercase letters, digits and '-', starting with a letter or digit",
  );

/** Passphrases travel only in request bodies or X-Borg-Passphrase, never in URLs. */
const Passphrase = z.string().max(4096).optional();

export const CreateRepoRequest = z.strictObject({
  name: RepoName,
  pubkey: z
    .string()
    .min(1, "is required")
    .max(16 * 1024),
  append_only: z.boolean().optional(),
});
export type CreateRepoRequest = z.infer<typeof CreateRepoRequest>;

/** Registers a key for a repository directory that already exists under the root. */
export const ImportRepoRequest = CreateRepoRequest;

export const PatchRepoRequest = z.strictObject({ append_only: z.boolean() });

/**
 * borgctl's addition (borgbox clients never call it): one more key for a repo, on its own
 * line tagged `# borgbox-lent:<repo>:<tag>`, restricted to that repo and append-only when
 * the repo is. The hub lends a machine's key this way for one cross-machine restore.
 */
export const LENT_KEY_TAG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const LendKeyRequest = z.strictObject({
  tag: z.string().regex(LENT_KEY_TAG_RE, "must be 1-63 of a-z, 0-9 and '-', not starting with '-'"),
  pubkey: z
    .string()
    .min(1, "is required")
    .max(16 * 1024),
});
export type LendKeyRequest = z.infer<typeof LendKeyRequest>;

export const CheckRequest = z.strictObject({
  repair: z.boolean().optional(),
  verify_data: z.boolean().optional(),
  passphrase: Passphrase,
});
export type CheckRequest = z.infer<typeof CheckRequest>;

const Keep = z.number().int().min(0).max(100_000).optional();
export const PruneRequest = z
  .strictObject({
    keep_hourly: Keep,
    keep_daily: Keep,
    keep_weekly: Keep,
    keep_monthly: Keep,
    keep_yearly: Keep,
    keep_within: z
      .string()
      .regex(/^\d+[HdwmyM]$/, "must look like 7d, 12H, 4w, 6m or 1y")
      .optional(),
    dry_run: z.boolean().optional(),
    passphrase: Passphrase,
  })
  .refine(
    (r) =>
      [r.keep_hourly, r.keep_daily, r.keep_weekly, r.keep_monthly, r.keep_yearly].some(
        (k) => k !== undefined && k > 0,
      ) || r.keep_within !== undefined,
    { message: "name at least one keep_* rule: pruning with none would delete every archive" },
  );
export type PruneRequest = z.infer<typeof PruneRequest>;

export const CompactRequest = z.strictObject({ passphrase: Passphrase });
export type CompactRequest = z.infer<typeof CompactRequest>;

export const Repo = z.object({
  name: z.string(),
  path: z.string(),
  size_bytes: z.number(),
  initialized: z.boolean(),
  modified_at: UncheckedTimestamp,
  last_write_at: UncheckedTimestamp.nullable(),
  registered: z.boolean(),
  append_only: z.boolean(),
  ssh_url: z.string().optional(),
});
export type Repo = z.infer<typeof Repo>;

/** queued → running → done | error (borgbox's names). */
export const JobStatus = z.enum(["queued", "running", "done", "error"]);
export type JobStatus = z.infer<typeof JobStatus>;
export const JobKind = z.enum(["check", "prune", "compact"]);
export type JobKind = z.infer<typeof JobKind>;

/** A maintenance job as the box reports it; the box's job registry holds exactly this. */
export const Job = z.object({
  id: z.string(),
  repo: z.string(),
  kind: JobKind,
  status: JobStatus,
  /** "" means "not yet" (borgbox): started_at until the job runs, finished_at until it ends. */
  started_at: UncheckedTimestamp,
  finished_at: UncheckedTimestamp,
  exit_code: z.number().int(),
  dry_run: z.boolean(),
  log_tail: z.array(z.string()),
});
export type Job = z.infer<typeof Job>;

export const JobAccepted = z.object({ job_id: z.string(), status: JobStatus });

export const Info = z.object({
  version: z.string(),
  repo_root: z.string(),
  free_bytes: z.number(),
  total_bytes: z.number(),
  uptime_sec: z.number(),
  borg_version: z.string(),
  runtime_version: z.string(),
  /**
   * borgctl's addition: the box's SSH host keys (`TYPE BASE64`), for the hub to pin.
   * Optional when read, so a plain borgbox (which sends none) still decodes.
   */
  ssh_host_keys: z.array(z.string()).optional(),
});
export type Info = z.infer<typeof Info>;

export const SystemStats = z.object({
  hostname: z.string(),
  uptime_seconds: z.number(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  storage: z.object({
    path: z.string(),
    total_bytes: z.number(),
    used_bytes: z.number(),
    free_bytes: z.number(),
  }),
  borgbox_version: z.string(),
});

export const Session = z.object({
  pid: z.number().int(),
  repo: z.string(),
  client_ip: z.string(),
  started_at: UncheckedTimestamp,
  cpu_percent: z.number(),
  rss_bytes: z.number(),
});

/** One archive from `borg list --json`; borg versions add fields, so unknown ones pass. */
export const Archive = z.looseObject({
  id: z.string(),
  name: z.string(),
  time: z.string().optional(),
  start: z.string().optional(),
  hostname: z.string().optional(),
  username: z.string().optional(),
  comment: z.string().optional(),
});
