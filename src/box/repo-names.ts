/**
 * Repo names and the one way a name becomes a path on disk.
 *
 * The name rule is borgbox's (`^[a-z0-9][a-z0-9-]{0,62}$`), so existing clients keep
 * working. The rule alone already excludes `.`, `..` and `/`; resolveRepoPath checks
 * again on the resolved path so that a future change to the rule cannot turn a name
 * into a path outside the root.
 */
import path from "node:path";
import { AppError } from "../shared/errors.ts";
import { REPO_NAME_RE } from "../shared/protocol/box.ts";

export { REPO_NAME_RE };

const RULE =
  "repo name must be 1-63 characters of lowercase letters, digits and '-', starting with a letter or digit";

/** Returns the name unchanged when it follows the rule; throws validation_failed otherwise. */
export function validateRepoName(name: unknown): string {
  if (typeof name !== "string" || !REPO_NAME_RE.test(name)) {
    throw new AppError("validation_failed", RULE);
  }
  return name;
}

/** Absolute path of repo `name` under `root`; always a direct child of the resolved root. */
export function resolveRepoPath(root: string, name: string): string {
  const valid = validateRepoName(name);
  const absoluteRoot = path.resolve(root);
  const result = path.resolve(absoluteRoot, valid);
  // Defence in depth: the regex already forbids separators and dot names.
  if (path.dirname(result) !== absoluteRoot || path.basename(result) !== valid) {
    throw new AppError("validation_failed", RULE);
  }
  return result;
}
