/** repo.prune: `borg prune` with keep rules (the hub refuses a prune without any). */
import { z } from "zod";
import { KEEP_WITHIN } from "../borg-values.ts";
import { defineJobKind } from "./common.ts";

export const PruneBlock = z.object({
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
});
export type PruneBlock = z.infer<typeof PruneBlock>;

export const repoPrune = defineJobKind("repo.prune", { prune: PruneBlock }, {});
