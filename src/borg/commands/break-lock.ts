/**
 * `borg break-lock`: removes the repository and cache locks, whoever holds them. Only
 * safe when no borg is using the repository; the caller decides that, not this builder.
 */
import type { BorgFeatures } from "../features.ts";
import { assemble, type BorgCommand, repoTarget } from "./common.ts";

export interface BreakLockOptions {
  repo: string;
}

export function buildBreakLockCommand(
  features: BorgFeatures,
  options: BreakLockOptions,
): BorgCommand {
  const target = repoTarget(features, options.repo);
  return { argv: assemble("break-lock", ["--log-json", ...target.options], target.positionals) };
}
