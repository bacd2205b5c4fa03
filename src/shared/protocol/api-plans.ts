/**
 * /api/plans: backup plans (a schedule for one repository, with retention and the
 * missed-run rule). Re-exported by api.ts, so importers use api.ts as for every resource.
 */
import { z } from "zod";
import { KEEP_WITHIN } from "./borg-values.ts";
import { OneLine, UncheckedTimestamp } from "./common.ts";

const Id = z.number().int().positive();

// --- plans ---------------------------------------------------------------------------

/**
 * What a plan's prune keeps (borg prune's --keep-* options). At least one rule: a
 * retention that keeps nothing would delete every archive of the plan.
 */
export const PlanRetention = z
  .strictObject({
    keep_within: z
      .string()
      .regex(KEEP_WITHIN, "must look like 7d: a number and one of H d w m y")
      .optional(),
    keep_last: z.number().int().min(1).max(100_000).optional(),
    keep_hourly: z.number().int().min(0).max(100_000).optional(),
    keep_daily: z.number().int().min(0).max(100_000).optional(),
    keep_weekly: z.number().int().min(0).max(100_000).optional(),
    keep_monthly: z.number().int().min(0).max(100_000).optional(),
    keep_yearly: z.number().int().min(0).max(100_000).optional(),
  })
  .refine(
    (r) => Object.values(r).some((v) => v !== undefined && v !== 0),
    "name at least one keep rule (keep_within, keep_last, keep_daily, …)",
  );
export type PlanRetention = z.infer<typeof PlanRetention>;

/**
 * A schedule as croner reads it (5 fields, or 6 with seconds first, or @hourly …); that
 * it parses, and that `timezone` is an IANA zone, the hub checks (400 naming the field).
 */
const PlanFields = {
  name: OneLine(128).min(1),
  schedule: OneLine(128).min(1),
  timezone: OneLine(64).min(1),
  enabled: z.boolean(),
  retention: PlanRetention.nullable(),
  prune_after_backup: z.boolean(),
  compact_every_days: z.number().int().min(1).max(3650).nullable(),
  check_every_days: z.number().int().min(1).max(3650).nullable(),
  check_verify_data: z.boolean(),
  missed_run: z.enum(["run_once", "skip"]),
  /** Up to a day: spreads a fleet's 02:00 backups. */
  random_delay_seconds: z.number().int().min(0).max(86_400),
};

export const CreatePlanRequest = z.strictObject({
  repository_id: Id,
  name: PlanFields.name.optional(),
  schedule: PlanFields.schedule,
  timezone: PlanFields.timezone.default("UTC"),
  enabled: PlanFields.enabled.default(true),
  /** Absent: no retention, nothing is pruned. */
  retention: PlanRetention.optional(),
  /** Default: true when retention is set. */
  prune_after_backup: PlanFields.prune_after_backup.optional(),
  compact_every_days: PlanFields.compact_every_days.optional(),
  check_every_days: PlanFields.check_every_days.optional(),
  check_verify_data: PlanFields.check_verify_data.default(false),
  missed_run: PlanFields.missed_run.default("run_once"),
  random_delay_seconds: PlanFields.random_delay_seconds.default(0),
});
export type CreatePlanRequest = z.infer<typeof CreatePlanRequest>;

/** Every field but the repository may change; absent keeps the stored value. */
export const UpdatePlanRequest = z.strictObject({
  name: PlanFields.name.optional(),
  schedule: PlanFields.schedule.optional(),
  timezone: PlanFields.timezone.optional(),
  enabled: PlanFields.enabled.optional(),
  /** null removes the retention (and pruning). */
  retention: PlanFields.retention.optional(),
  prune_after_backup: PlanFields.prune_after_backup.optional(),
  compact_every_days: PlanFields.compact_every_days.optional(),
  check_every_days: PlanFields.check_every_days.optional(),
  check_verify_data: PlanFields.check_verify_data.optional(),
  missed_run: PlanFields.missed_run.optional(),
  random_delay_seconds: PlanFields.random_delay_seconds.optional(),
});
export type UpdatePlanRequest = z.infer<typeof UpdatePlanRequest>;

/** GET /api/plans/preview: a schedule as the scheduler would read it, before it is saved. */
export const PlanPreviewQuery = z.strictObject({
  schedule: PlanFields.schedule,
  timezone: PlanFields.timezone.default("UTC"),
});
export const PlanPreview = z.object({
  /** The next 5 due times from now (before any random delay). */
  next_runs: z.array(UncheckedTimestamp),
  description: z.string(),
});
export type PlanPreview = z.infer<typeof PlanPreview>;

export const PlanListQuery = z.strictObject({
  repository_id: z.coerce.number().int().positive().optional(),
});

export const Plan = z.object({
  id: Id,
  repository_id: Id,
  name: z.string(),
  schedule: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  retention: z
    .object({
      keep_within: z.string().optional(),
      keep_last: z.number().int().optional(),
      keep_hourly: z.number().int().optional(),
      keep_daily: z.number().int().optional(),
      keep_weekly: z.number().int().optional(),
      keep_monthly: z.number().int().optional(),
      keep_yearly: z.number().int().optional(),
    })
    .nullable(),
  prune_after_backup: z.boolean(),
  compact_every_days: z.number().int().nullable(),
  check_every_days: z.number().int().nullable(),
  check_verify_data: z.boolean(),
  missed_run: z.enum(["run_once", "skip"]),
  random_delay_seconds: z.number().int(),
  /**
   * The plan's backups are named "<archive_prefix><the repository's archive name>", and
   * its prune only looks at archives with this prefix (e.g. "plan3-").
   */
  archive_prefix: z.string(),
  /** The next due time (before any random delay); null when disabled or never again. */
  next_run_at: UncheckedTimestamp.nullable(),
  /** The next 5 due times ([] when disabled). */
  next_runs: z.array(UncheckedTimestamp),
  /** In words, e.g. "every day at 02:00 (Europe/Berlin)". */
  description: z.string(),
  /** The last due time the scheduler acted on (queued, skipped or missed). */
  last_run_at: UncheckedTimestamp.nullable(),
  last_job_id: Id.nullable(),
  created_at: UncheckedTimestamp,
  updated_at: UncheckedTimestamp,
});
export type Plan = z.infer<typeof Plan>;
