/**
 * The agent policy's pure checks (src/agent/policy.ts) on real temp directories and
 * symlinks, and its config keys (TOML, the comma-separated env form, validation, the
 * commented template register writes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import {
  checkJobKind,
  checkJobPolicy,
  checkPathInRoots,
  checkRepositoryLocation,
  describePolicy,
  restoreDestinationOf,
} from "../../../src/agent/policy.ts";
import {
  AGENT_CONFIG_FIELDS,
  AGENT_POLICY_TEMPLATE,
  agentConfigSchema,
  agentPolicy,
  agentPolicySchema,
} from "../../../src/shared/config/agent.ts";
import { ConfigError, loadConfig } from "../../../src/shared/config/load.ts";
import type { JobPayload } from "../../../src/shared/protocol/agent.ts";

let dir: string;
let inside: string;
let outside: string;

beforeAll(async () => {
  // realpath: the temp dir itself may sit behind a symlink (macOS /var → /private/var).
  dir = await realpath(await mkdtemp(join(tmpdir(), "borgctl-policy-")));
  inside = join(dir, "inside");
  outside = join(dir, "outside");
  await mkdir(join(inside, "docs"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, "secret.txt"), "not for the hub\n");
  await symlink(outside, join(inside, "escape"));
  await symlink(join(inside, "docs"), join(dir, "docs-link"));
  await symlink(inside, join(dir, "inside-link"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const payload = (over: Partial<JobPayload> = {}): JobPayload => ({
  schema_version: 1,
  job_id: 7,
  job_kind: "backup.create",
  repository: {
    id: 1,
    name: "laptop",
    location: "ssh://borg@box.example.com/laptop",
    borg_version: 1,
    encryption: "repokey-blake2",
    append_only: false,
    ssh_host_key: null,
  },
  backup: {
    archive_name: "a",
    source_paths: [join(inside, "docs")],
    exclude_patterns: [],
    compression: "lz4",
  },
  secrets: { passphrase_location: "hub", passphrase: "x" },
  ...over,
});

const sources = (paths: string[]) =>
  payload({
    backup: { archive_name: "a", source_paths: paths, exclude_patterns: [], compression: "lz4" },
  });

describe("allow_job_kinds", () => {
  test("a listed kind passes; another fails naming the rule, the kind and the list", () => {
    expect(checkJobKind("backup.create", ["backup.create", "repo.init"])).toBeUndefined();
    expect(checkJobKind("repo.prune", ["backup.create", "repo.init"])).toEqual({
      rule: "allow_job_kinds",
      value: "repo.prune",
      message:
        'agent policy: job kind "repo.prune" is not in allow_job_kinds (backup.create, repo.init)',
    });
  });

  test("an empty list allows no kind", () => {
    expect(checkJobKind("repo.info", [])?.message).toBe(
      'agent policy: job kind "repo.info" is not in allow_job_kinds (none)',
    );
  });
});

describe("allowed_repository_locations", () => {
  const patterns = ["ssh://borg@box.example.com/*", "/srv/backup/**"];

  test("a location matching a pattern as a whole passes", () => {
    expect(checkRepositoryLocation("ssh://borg@box.example.com/laptop", patterns)).toBeUndefined();
    expect(checkRepositoryLocation("/srv/backup/laptop", patterns)).toBeUndefined();
    expect(checkRepositoryLocation("/srv/backup/hosts/laptop", patterns)).toBeUndefined();
  });

  test("* stops at /, another host is not a prefix match, and the message lists the patterns", () => {
    expect(checkRepositoryLocation("ssh://borg@box.example.com/a/b", patterns)?.rule).toBe(
      "allowed_repository_locations",
    );
    expect(
      checkRepositoryLocation("ssh://borg@box.example.com.evil.net/laptop", patterns),
    ).toBeDefined();
    expect(checkRepositoryLocation("ssh://attacker@elsewhere/x", patterns)?.message).toBe(
      'agent policy: repository location "ssh://attacker@elsewhere/x" matches none of allowed_repository_locations (ssh://borg@box.example.com/*, /srv/backup/**)',
    );
  });

  test('a ".." segment is refused even where the glob would match it', () => {
    for (const location of [
      "/srv/backup/../../etc",
      "ssh://borg@box.example.com/..",
      "ssh://borg@box.example.com/%2E%2e",
      "borg@box.example.com:../other",
    ]) {
      const found = checkRepositoryLocation(location, [...patterns, "borg@box.example.com:*"]);
      expect(found?.message).toContain('has a ".." segment');
    }
    // Dots inside a name are just a name.
    expect(checkRepositoryLocation("/srv/backup/laptop..old", patterns)).toBeUndefined();
  });
});

describe("allowed_source_roots", () => {
  const check = (path: string, roots: string[]) =>
    checkPathInRoots(path, roots, "allowed_source_roots", "source path");

  test("the message names the rule, the path and the roots", async () => {
    expect(await check("/etc", ["/home", "/srv"])).toEqual({
      rule: "allowed_source_roots",
      value: "/etc",
      message: 'agent policy: source path "/etc" is outside allowed_source_roots (/home, /srv)',
    });
  });

  test("paths inside a root pass, the root itself too; a sibling with the root as prefix does not", async () => {
    expect(await check(join(inside, "docs"), [inside])).toBeUndefined();
    expect(await check(inside, [inside])).toBeUndefined();
    expect(await check(`${inside}-other`, [inside])).toBeDefined();
  });

  test('".." is resolved before comparing', async () => {
    const found = await check(join(inside, "..", "outside"), [inside]);
    expect(found?.message).toContain("is outside allowed_source_roots");
    expect(await check(`${inside}/docs/../docs`, [inside])).toBeUndefined();
  });

  test("a symlink inside a root that points outside is refused, with where it leads", async () => {
    const found = await check(join(inside, "escape"), [inside]);
    expect(found?.message).toBe(
      `agent policy: source path "${join(inside, "escape")}" resolves to "${outside}", outside allowed_source_roots (${inside})`,
    );
    // Through the symlink, deeper: still the real path that counts.
    expect(await check(join(inside, "escape", "secret.txt"), [inside])).toBeDefined();
    // A path that does not exist yet behind the symlink is resolved through its parent.
    expect(await check(join(inside, "escape", "new", "file"), [inside])).toBeDefined();
  });

  test("a missing path inside a root passes (borg reports it); a relative one never does", async () => {
    expect(await check(join(inside, "not-yet", "there"), [inside])).toBeUndefined();
    expect((await check("docs", [inside]))?.message).toBe(
      `agent policy: source path "docs" is not absolute, so allowed_source_roots cannot apply`,
    );
  });

  test("a root that is itself a symlink allows what it leads to", async () => {
    expect(
      await check(join(dir, "inside-link", "docs"), [join(dir, "inside-link")]),
    ).toBeUndefined();
    expect(await check(join(inside, "docs"), [join(dir, "inside-link")])).toBeUndefined();
    // A symlink outside the roots that leads into one still names a path outside them.
    expect(await check(join(dir, "docs-link"), [inside])).toBeDefined();
  });

  test('"/" allows every absolute path; no roots allow none', async () => {
    expect(await check("/etc/shadow", ["/"])).toBeUndefined();
    expect(await check(join(inside, "escape"), ["/"])).toBeUndefined();
    expect((await check(inside, []))?.message).toContain("outside allowed_source_roots (none)");
  });

  test("a path whose real path cannot be looked up is refused, not waved through", async () => {
    const loop = join(inside, "loop");
    await symlink(loop, loop);
    expect((await check(loop, [inside]))?.message).toBe(
      `agent policy: source path "${loop}" cannot be resolved (ELOOP), so allowed_source_roots cannot be checked`,
    );
  });
});

describe("allowed_restore_roots", () => {
  const check = (path: string, roots: string[]) =>
    checkPathInRoots(path, roots, "allowed_restore_roots", "restore destination");

  test("a destination that does not exist yet passes inside a root and fails through a symlink out", async () => {
    expect(await check(join(inside, "restore", "today"), [inside])).toBeUndefined();
    expect((await check("/etc", [inside]))?.message).toBe(
      `agent policy: restore destination "/etc" is outside allowed_restore_roots (${inside})`,
    );
    expect((await check(join(inside, "escape", "today"), [inside]))?.message).toContain(
      `resolves to "${join(outside, "today")}"`,
    );
  });

  test("checkJobPolicy applies it to a restore (archive.extract) and nothing else", async () => {
    const restore = (destination: string) =>
      payload({
        job_kind: "archive.extract",
        restore: { archive: "a-1", paths: [], destination, overwrite: false, dry_run: false },
      });
    expect(restoreDestinationOf(restore("/etc"))).toBe("/etc");
    expect((await checkJobPolicy(restore("/etc"), { allowed_restore_roots: [inside] }))?.rule).toBe(
      "allowed_restore_roots",
    );
    expect(
      await checkJobPolicy(restore(join(inside, "restore")), { allowed_restore_roots: [inside] }),
    ).toBeUndefined();
    // An empty list forbids every restore onto this machine.
    expect(
      (await checkJobPolicy(restore(join(inside, "restore")), { allowed_restore_roots: [] }))?.rule,
    ).toBe("allowed_restore_roots");
    expect(await checkJobPolicy(restore("/etc"), {})).toBeUndefined();
    // Other kinds carry no destination, so the rule has nothing to refuse.
    expect(await checkJobPolicy(payload(), { allowed_restore_roots: [] })).toBeUndefined();
    // And allow_job_kinds can leave restores (and listings) out altogether.
    expect(
      (
        await checkJobPolicy(restore(inside), {
          allow_job_kinds: ["backup.create", "archive.list"],
        })
      )?.message,
    ).toContain('job kind "archive.extract" is not in allow_job_kinds');
  });
});

describe("checkJobPolicy", () => {
  test("no policy allows what today's agent runs", async () => {
    expect(await checkJobPolicy(sources(["/etc"]), {})).toBeUndefined();
  });

  test("every source is checked, and the first that breaks a rule is reported", async () => {
    const found = await checkJobPolicy(sources([join(inside, "docs"), "/etc", "/root"]), {
      allowed_source_roots: [inside],
    });
    expect(found?.value).toBe("/etc");
  });

  test("optional sources are held to allowed_source_roots too", async () => {
    const job = payload({
      backup: {
        archive_name: "a",
        source_paths: [join(inside, "docs")],
        optional_source_paths: ["/root"],
        exclude_patterns: [],
        compression: "lz4",
      },
    });
    const found = await checkJobPolicy(job, { allowed_source_roots: [inside] });
    expect(found?.value).toBe("/root");
  });

  test("kind, then repository, then sources", async () => {
    const job = payload({
      job_kind: "backup.create",
      repository: { ...payload().repository, location: "/elsewhere" },
      backup: {
        ...(payload().backup as NonNullable<JobPayload["backup"]>),
        source_paths: ["/etc"],
      },
    });
    const policy = {
      allow_job_kinds: ["repo.info" as const],
      allowed_repository_locations: ["/srv/*"],
      allowed_source_roots: [inside],
    };
    expect((await checkJobPolicy(job, policy))?.rule).toBe("allow_job_kinds");
    expect((await checkJobPolicy(job, { ...policy, allow_job_kinds: undefined }))?.rule).toBe(
      "allowed_repository_locations",
    );
    expect(
      (
        await checkJobPolicy(job, {
          ...policy,
          allow_job_kinds: undefined,
          allowed_repository_locations: ["/elsewhere"],
        })
      )?.rule,
    ).toBe("allowed_source_roots");
  });

  test("jobs without sources are not held to allowed_source_roots", async () => {
    const info = payload({ job_kind: "repo.info", backup: undefined });
    expect(await checkJobPolicy(info, { allowed_source_roots: [] })).toBeUndefined();
  });
});

describe("describePolicy", () => {
  test('one line per active rule, or "no restrictions"', () => {
    expect(describePolicy({})).toEqual(["no restrictions"]);
    expect(
      describePolicy({ allowed_source_roots: ["/home", "/srv"], allow_job_kinds: [] }),
    ).toEqual(["allowed_source_roots = /home, /srv", "allow_job_kinds = (none: nothing allowed)"]);
  });
});

describe("policy config", () => {
  const base = `server_url = "https://hub.example"\nagent_id = "agt_1"\nagent_token = "borgctl_agent_x"\nstate_dir = "/var/lib/borgctl/agent"\n`;
  const load = async (toml: string, env: Record<string, string> = {}) => {
    const path = join(dir, `agent-${Math.random().toString(36).slice(2)}.toml`);
    await writeFile(path, base + toml);
    return loadConfig(agentConfigSchema, AGENT_CONFIG_FIELDS, {
      role: "agent",
      file: { path, required: true },
      env,
      flags: {},
    });
  };
  const issues = async (toml: string, env: Record<string, string> = {}) => {
    const error = await load(toml, env).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.join("\n");
  };

  test("absent keys are no policy", async () => {
    expect(agentPolicy(await load(""))).toEqual({});
  });

  test("TOML lists are read; roots are normalized", async () => {
    const config = await load(
      `allowed_source_roots = ["/home/", "/srv/../srv/data"]\nallowed_repository_locations = ["/srv/backup/*"]\nallowed_restore_roots = []\nallow_job_kinds = ["backup.create"]\n`,
    );
    expect(agentPolicy(config)).toEqual({
      allowed_source_roots: ["/home", "/srv/data"],
      allowed_repository_locations: ["/srv/backup/*"],
      allowed_restore_roots: [],
      allow_job_kinds: ["backup.create"],
    });
  });

  test("the environment form is comma-separated and overrides the file", async () => {
    const config = await load(`allowed_source_roots = ["/home"]\n`, {
      BORGCTL_AGENT_ALLOWED_SOURCE_ROOTS: "/srv, /data/",
      BORGCTL_AGENT_ALLOWED_REPOSITORY_LOCATIONS: "ssh://borg@box/*,/srv/backup/*",
      BORGCTL_AGENT_ALLOWED_RESTORE_ROOTS: "/srv/restore",
      BORGCTL_AGENT_ALLOW_JOB_KINDS: "repo.init,backup.create",
    });
    expect(agentPolicy(config)).toEqual({
      allowed_source_roots: ["/srv", "/data"],
      allowed_repository_locations: ["ssh://borg@box/*", "/srv/backup/*"],
      allowed_restore_roots: ["/srv/restore"],
      allow_job_kinds: ["repo.init", "backup.create"],
    });
  });

  test("bad values are refused with the key and where they came from", async () => {
    expect(await issues(`allowed_source_roots = ["home"]\n`)).toContain(
      "allowed_source_roots.0: must be an absolute path (from config file",
    );
    expect(await issues(`allow_job_kinds = ["backup.delete"]\n`)).toContain("allow_job_kinds.0:");
    expect(await issues(`allowed_repository_locations = ["!/srv/*"]\n`)).toContain(
      'must not start with "!"',
    );
    // A {a,b} alternative split by the env form's commas is caught, not silently narrowed.
    expect(
      await issues("", { BORGCTL_AGENT_ALLOWED_REPOSITORY_LOCATIONS: "/srv/{a,b}/*" }),
    ).toContain("unbalanced { } (in BORGCTL_AGENT_ALLOWED_REPOSITORY_LOCATIONS");
    expect(await issues("", { BORGCTL_AGENT_ALLOW_JOB_KINDS: "repo.delete" })).toContain(
      "(from env BORGCTL_AGENT_ALLOW_JOB_KINDS)",
    );
  });

  test("register's template is all comments, and each example is a valid setting once uncommented", () => {
    expect(parseToml(AGENT_POLICY_TEMPLATE)).toEqual({});
    const examples = AGENT_POLICY_TEMPLATE.split("\n")
      .filter((line) => /^# \w+ = /.test(line))
      .map((line) => line.slice(2));
    expect(examples.map((line) => line.split(" ")[0])).toEqual([
      "allowed_source_roots",
      "allowed_repository_locations",
      "allowed_restore_roots",
      "allow_job_kinds",
    ]);
    const uncommented = parseToml(examples.join("\n"));
    expect(agentPolicySchema.safeParse(uncommented).success).toBe(true);
  });
});
