/**
 * repo.prune on the hub: the payload's keep rules come from the request, and a request
 * without any keep rule is refused before anything is queued — borg prune without one
 * would delete every archive.
 */
import { AppError } from "../../shared/errors.ts";
import type { PruneBlock } from "../../shared/protocol/agent.ts";
import type { HubJobKind, JobOptions } from "./kind.ts";

const KEEP_RULES = [
  "keep_last",
  "keep_hourly",
  "keep_daily",
  "keep_weekly",
  "keep_monthly",
  "keep_yearly",
  "keep_within",
] as const;

function pruneBlock(options: JobOptions["prune"]): PruneBlock {
  const prune = options ?? {};
  if (!KEEP_RULES.some((rule) => prune[rule] !== undefined)) {
    throw new AppError(
      "validation_failed",
      `prune needs at least one of ${KEEP_RULES.join(", ")}; without one it would delete every archive`,
    );
  }
  const block: PruneBlock = { dry_run: prune.dry_run ?? false };
  if (prune.archive_prefix !== undefined) block.archive_prefix = prune.archive_prefix;
  for (const rule of KEEP_RULES) {
    const value = prune[rule];
    if (value !== undefined) Object.assign(block, { [rule]: value });
  }
  return block;
}

export const repoPrune: HubJobKind<"repo.prune"> = {
  exclusive: false,
  checkRequest: (options) => {
    pruneBlock(options.prune);
  },
  blocks: (_repository, options) => ({ prune: pruneBlock(options.prune) }),
  stored: () => ({}),
};
