/**
 * `borgctl agent` configuration, written by `agent register` and read by the other
 * agent commands. It holds a credential, so the file must be 0600 (state.ts checks).
 *
 * It also holds the agent's own policy (allowed_* and allow_job_kinds): limits on what
 * any hub may make this machine do, enforced by src/agent/policy.ts before borg runs.
 * They live here, on the machine, because the point is that the hub cannot change them.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { JOB_KINDS, JobKind } from "../protocol/agent.ts";
import { LogLevelSchema } from "./common.ts";
import type { ConfigField } from "./load.ts";

/**
 * TOML gives a list; the environment gives one string, split on commas (items trimmed,
 * empty items dropped). An explicitly empty list allows nothing; a missing key, no limit.
 */
const policyList = <T extends z.ZodType>(item: T) =>
  z
    .preprocess(
      (value) =>
        typeof value === "string"
          ? value
              .split(",")
              .map((part) => part.trim())
              .filter((part) => part !== "")
          : value,
      z.array(item),
    )
    .optional();

/** Normalized (`..` resolved, trailing "/" dropped) so policy.ts compares like with like. */
const policyRoot = z
  .string()
  .min(1, "must not be empty")
  .refine((p) => !p.includes("\0"), "must not contain NUL")
  .refine((p) => isAbsolute(p), "must be an absolute path")
  .transform((p) => resolve(p));

const locationPattern = z
  .string()
  .min(1, "must not be empty")
  // Bun.Glob negates a pattern that starts with "!": in an allow-list that would allow every other location.
  .refine((p) => !p.startsWith("!"), 'must not start with "!" (list what is allowed)')
  // The usual cause is a {a,b} pattern split on its comma by the environment form.
  .refine(
    (p) => p.split("{").length === p.split("}").length,
    "has unbalanced { } (in BORGCTL_AGENT_ALLOWED_REPOSITORY_LOCATIONS, commas split patterns: list each alternative as its own pattern)",
  );

/** The policy keys (policy.ts enforces them); shared by the whole config and register's pre-check. */
const policyShape = {
  /** Every backup source must be inside one of these directories (symlinks resolved). */
  allowed_source_roots: policyList(policyRoot),
  /** The repository location must match one of these globs (Bun.Glob syntax, whole string). */
  allowed_repository_locations: policyList(locationPattern),
  /** A restore destination (archive.extract) must be inside one of these directories. */
  allowed_restore_roots: policyList(policyRoot),
  /** Only these job kinds run. */
  allow_job_kinds: policyList(JobKind),
};

export const agentPolicySchema = z.strictObject(policyShape);

export const agentConfigSchema = z.strictObject({
  server_url: z.url({ error: "must be the hub's URL, e.g. https://backup.example.com" }),
  agent_id: z.string().min(1),
  agent_token: z.string().startsWith("borgctl_agent_", "is not an agent token"),
  name: z.string().min(1).max(128).optional(),
  /** Keys, known_hosts, borg's cache and the outbox live here. */
  state_dir: z.string().min(1),
  /** Plain HTTP to a hub that is not on this machine: only when asked for. */
  insecure: z.boolean().default(false),
  poll_wait_seconds: z.coerce.number().int().min(1).max(30).default(25),
  heartbeat_interval_seconds: z.coerce.number().int().min(5).max(3600).default(30),
  log_level: LogLevelSchema.default("info"),
  ...policyShape,
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** The policy part of the config; a key that is absent is no limit. */
export type AgentPolicy = z.infer<typeof agentPolicySchema>;

export const AGENT_POLICY_KEYS = Object.keys(policyShape) as (keyof AgentPolicy)[];

/** Just the policy keys of a config that are set, in AGENT_POLICY_KEYS order. */
export function agentPolicy(config: AgentPolicy): AgentPolicy {
  const policy: AgentPolicy = {};
  for (const key of AGENT_POLICY_KEYS) {
    if (config[key] !== undefined) Object.assign(policy, { [key]: config[key] });
  }
  return policy;
}

/**
 * Appended, all commented out, to the agent.toml that `agent register` writes, so an
 * admin sees the knobs where they are set. Flat keys only: the config has no [tables],
 * so uncommented lines here stay top-level keys.
 */
export const AGENT_POLICY_TEMPLATE = `
# Agent policy: limits on what ANY hub may make this machine do. The hub cannot change
# them. A key left out means no limit; an empty list allows nothing. Restart the agent
# after editing.
#
# Back up only paths inside these directories (".." and symlinks resolved; "/" allows all):
# allowed_source_roots = ["/home", "/srv"]
# Use only repositories whose location matches one of these globs (* = any run of characters but "/", ** = any run):
# allowed_repository_locations = ["ssh://borg@box.example.com/*", "/srv/backup/*"]
# Restore (archive.extract) only into these directories; [] forbids restores:
# allowed_restore_roots = ["/srv/restore"]
# Run only these job kinds (of ${JOB_KINDS.join(", ")}):
# allow_job_kinds = ["repo.init", "backup.create", "archive.list", "repo.info"]
`;

/**
 * The file is the source; the environment may override the hub URL, token, log level
 * and the policy (e.g. in a container). Policy lists in the environment are comma-separated.
 */
export const AGENT_CONFIG_FIELDS: readonly ConfigField[] = [
  { key: "server_url", env: "BORGCTL_SERVER_URL", flag: "server" },
  { key: "agent_token", env: "BORGCTL_AGENT_TOKEN", secret: true },
  { key: "log_level", env: "BORGCTL_LOG_LEVEL", flag: "log-level" },
  { key: "allowed_source_roots", env: "BORGCTL_AGENT_ALLOWED_SOURCE_ROOTS" },
  { key: "allowed_repository_locations", env: "BORGCTL_AGENT_ALLOWED_REPOSITORY_LOCATIONS" },
  { key: "allowed_restore_roots", env: "BORGCTL_AGENT_ALLOWED_RESTORE_ROOTS" },
  { key: "allow_job_kinds", env: "BORGCTL_AGENT_ALLOW_JOB_KINDS" },
];
