/**
 * repo.prune: `borg prune` with keep rules (the hub refuses a prune without any), over
 * every archive of the repository or, with `archive_prefix`, only those whose name starts
 * with it (a plan's own archives). An agent too old to know `archive_prefix` or
 * `keep_last` would drop them (payloads are lenient) and prune more than it was asked to,
 * so the hub sends a plan's prune only to agents that report PLAN_PRUNE_CAPABILITY.
 */
import { z } from "zod";
import { KEEP_WITHIN } from "../borg-values.ts";
import { defineJobKind } from "./common.ts";

/** The capability an agent reports when it honours keep_last and archive_prefix. */
export const PLAN_PRUNE_CAPABILITY = "repo.prune.plan";

export const PruneBlock = z.object({
  keep_last: z.number().int().min(0).optional(),
  keep_hourly: z.number().int().min(0).optional(),
  keep_daily: z.number().int().min(0).optional(),
  keep_weekly: z.number().int().min(0).optional(),
  keep_monthly: z.number().int().min(0).optional(),
  keep_yearly: z.number().int().min(0).optional(),
  keep_within: z
    .string()
    .regex(KEEP_WITHIN, "must look like 7d: a number and one of H d w m y")
    .optional(),
  dry_run: z.boolean(),
  /** Only archives whose name starts with this (no glob characters; borg-values checks). */
  archive_prefix: z.string().min(1).max(128).optional(),
});
export type PruneBlock = z.infer<typeof PruneBlock>;

export const repoPrune = defineJobKind("repo.prune", { prune: PruneBlock }, {});
