/**
 * `borg --version`: the one command built before the version (and so the features) is
 * known. Prints "<program> <version>" on stdout; parse it with parseBorgVersion.
 */
import type { BorgCommand } from "./common.ts";

export function buildVersionCommand(): BorgCommand {
  return { argv: ["--version"] };
}
