/**
 * repo.prune on the agent: `borg prune --list` with the payload's keep rules, scoped to
 * the payload's archive prefix when it has one (`--glob-archives`/`--match-archives`).
 */
import { buildPruneCommand } from "../../borg/commands/prune.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoPrune: AgentJobKind<"repo.prune"> = {
  readsJson: false,

  command: (features, { repository, prune }) =>
    buildPruneCommand(features, {
      repo: repository.location,
      keepLast: prune.keep_last,
      keepHourly: prune.keep_hourly,
      keepDaily: prune.keep_daily,
      keepWeekly: prune.keep_weekly,
      keepMonthly: prune.keep_monthly,
      keepYearly: prune.keep_yearly,
      keepWithin: prune.keep_within,
      dryRun: prune.dry_run,
      prefix: prune.archive_prefix,
      // The archives kept and pruned go to the job log.
      list: true,
    }),

  result: () => ({ ok: true, fields: {} }),
};
