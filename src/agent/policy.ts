/**
 * The agent's own policy: limits from this machine's config on what any hub may make it
 * do, so a compromised hub (or its operator) cannot turn the agent into a tool to read
 * other paths, send data to another repository, or run destructive job kinds. The
 * executor calls `checkJobPolicy` before anything else, so a refused job starts no borg
 * and touches no source; the violation becomes a normal job failure on the hub.
 *
 * Rules (a key absent from the config is no limit; an empty list allows nothing):
 * - allow_job_kinds: the job's kind is one of them.
 * - allowed_repository_locations: the location, exactly as the hub sent it, matches one
 *   pattern as a whole (Bun.Glob: `*` any run of characters except "/", possibly none;
 *   `**` any run including "/"; `?` one character except "/"; `[abc]`, `{a,b}`, `\` escapes;
 *   case-sensitive). A location with a ".." path segment is refused outright: `*` would
 *   match "..", and the path would then leave the directory the pattern names.
 * - allowed_source_roots / allowed_restore_roots: the path is absolute and, with ".."
 *   resolved, inside a root; and so is its real path (symlinks resolved, through the
 *   deepest part that exists), so a symlink inside a root that points outside is refused.
 *   A root is compared both as written and as its own real path, so a root that is
 *   itself a symlink (macOS /tmp, a moved /home) still works. The root "/" allows all.
 * Only the filesystem lookups (realpath) are effects, and they are passed in.
 */
import { realpath as fsRealpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { AgentPolicy } from "../shared/config/agent.ts";
import type { JobPayload } from "../shared/protocol/agent.ts";

export type PolicyRule =
  | "allow_job_kinds"
  | "allowed_repository_locations"
  | "allowed_source_roots"
  | "allowed_restore_roots";

export interface PolicyViolation {
  rule: PolicyRule;
  /** The offending value from the payload. */
  value: string;
  /** Names the rule and the value, e.g. `agent policy: source path "/etc" is outside …`. */
  message: string;
}

export interface PolicyFs {
  /** Resolves every symlink in an existing path; rejects (ENOENT, ENOTDIR, …) otherwise. */
  realpath(path: string): Promise<string>;
}

const defaultFs: PolicyFs = { realpath: (path) => fsRealpath(path) };

const listed = (items: readonly string[]) => `(${items.join(", ") || "none"})`;

const violation = (rule: PolicyRule, value: string, what: string): PolicyViolation => ({
  rule,
  value,
  message: `agent policy: ${what}`,
});

/** `path` and `root` are normalized absolute paths. */
const isInside = (path: string, root: string) =>
  root === "/" || path === root || path.startsWith(`${root}/`);

/**
 * The real path of `path`, resolving symlinks through its deepest existing ancestor: a
 * restore destination (or a missing source) need not exist, but a symlinked parent still
 * decides where borg would write (or read). An error code when the lookup fails for
 * another reason (a symlink loop, no permission): then the path cannot be checked.
 */
async function realPathOf(
  path: string,
  fs: PolicyFs,
): Promise<{ real: string } | { error: string }> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return { real: join(await fs.realpath(current), ...missing) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || current === "/") return { error: code };
      missing.unshift(basename(current));
      current = dirname(current);
    }
  }
}

/** Checks one path against a root list; `what` names it in the message ("source path"). */
export async function checkPathInRoots(
  path: string,
  roots: readonly string[],
  rule: "allowed_source_roots" | "allowed_restore_roots",
  what: string,
  fs: PolicyFs = defaultFs,
): Promise<PolicyViolation | undefined> {
  if (!isAbsolute(path)) {
    return violation(rule, path, `${what} "${path}" is not absolute, so ${rule} cannot apply`);
  }
  const outside = `outside ${rule} ${listed(roots)}`;
  const forms = new Set(roots.map((root) => resolve(root)));
  for (const root of [...forms]) {
    const real = await realPathOf(root, fs);
    if ("real" in real) forms.add(real.real);
  }
  const allowed = (p: string) => [...forms].some((root) => isInside(p, root));
  const normalized = resolve(path);
  if (!allowed(normalized)) {
    return violation(rule, path, `${what} "${path}" is ${outside}`);
  }
  const real = await realPathOf(normalized, fs);
  if ("error" in real) {
    return violation(
      rule,
      path,
      `${what} "${path}" cannot be resolved (${real.error}), so ${rule} cannot be checked`,
    );
  }
  if (!allowed(real.real)) {
    return violation(rule, path, `${what} "${path}" resolves to "${real.real}", ${outside}`);
  }
  return undefined;
}

const hasDotDotSegment = (location: string) =>
  // ":" too, for scp-style host:path; %2e is how a URL could spell "." past a naive check.
  location.split(/[/:]/).some((segment) => segment.replace(/%2e/gi, ".") === "..");

export function checkRepositoryLocation(
  location: string,
  patterns: readonly string[],
): PolicyViolation | undefined {
  if (hasDotDotSegment(location)) {
    return violation(
      "allowed_repository_locations",
      location,
      `repository location "${location}" has a ".." segment, which allowed_repository_locations refuses`,
    );
  }
  if (patterns.some((pattern) => new Bun.Glob(pattern).match(location))) return undefined;
  return violation(
    "allowed_repository_locations",
    location,
    `repository location "${location}" matches none of allowed_repository_locations ${listed(patterns)}`,
  );
}

export function checkJobKind(
  kind: string,
  allowed: readonly string[],
): PolicyViolation | undefined {
  if (allowed.includes(kind)) return undefined;
  return violation(
    "allow_job_kinds",
    kind,
    `job kind "${kind}" is not in allow_job_kinds ${listed(allowed)}`,
  );
}

/** Where a restore job (archive.extract's `restore` block) would write. */
export function restoreDestinationOf(payload: JobPayload): string | undefined {
  return payload.restore?.destination;
}

/** The first rule the job breaks, or undefined when the policy allows it. */
export async function checkJobPolicy(
  payload: JobPayload,
  policy: AgentPolicy,
  fs: PolicyFs = defaultFs,
): Promise<PolicyViolation | undefined> {
  if (policy.allow_job_kinds) {
    const found = checkJobKind(payload.job_kind, policy.allow_job_kinds);
    if (found) return found;
  }
  if (policy.allowed_repository_locations) {
    const found = checkRepositoryLocation(
      payload.repository.location,
      policy.allowed_repository_locations,
    );
    if (found) return found;
  }
  if (policy.allowed_source_roots && payload.backup) {
    const { source_paths, optional_source_paths = [] } = payload.backup;
    for (const source of [...source_paths, ...optional_source_paths]) {
      const found = await checkPathInRoots(
        source,
        policy.allowed_source_roots,
        "allowed_source_roots",
        "source path",
        fs,
      );
      if (found) return found;
    }
  }
  const destination = restoreDestinationOf(payload);
  if (policy.allowed_restore_roots && destination !== undefined) {
    return checkPathInRoots(
      destination,
      policy.allowed_restore_roots,
      "allowed_restore_roots",
      "restore destination",
      fs,
    );
  }
  return undefined;
}

/** For `agent status`: one line per active rule, or "no restrictions". */
export function describePolicy(policy: AgentPolicy): string[] {
  const lines = Object.entries(policy)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) => `${key} = ${(value as string[]).join(", ") || "(none: nothing allowed)"}`,
    );
  return lines.length > 0 ? lines : ["no restrictions"];
}
