/**
 * The agent policy end to end: an agent.toml locked down before registering, the
 * in-process hub sending jobs inside and outside it, the real borg behind a wrapper on
 * PATH that records every call, so a refused job is shown to start no borg at all.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "citty";
import { parse as parseToml } from "smol-toml";
import type { AgentRuntime } from "../../../src/agent/loop.ts";
import { createRuntime, loadAgent, registerAgent } from "../../../src/agent/start.ts";
import registerCommand from "../../../src/cli/commands/agent/register.ts";
import statusCommand from "../../../src/cli/commands/agent/status.ts";
import { createLogger } from "../../../src/shared/log.ts";
import type { Machine } from "../../../src/shared/protocol/api.ts";
import { waitForJob } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const PASSPHRASE = "policy-integration-passphrase";
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let dir: string;
let configPath: string;
let borgCalls: string;
let sources: string;
let outside: string;
let runtime: AgentRuntime;
const stop = new AbortController();
let done: Promise<unknown>;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  dir = await realpath(await mkdtemp(join(tmpdir(), "borgctl-agent-policy-")));
  sources = join(dir, "sources");
  outside = join(dir, "outside");
  await mkdir(join(sources, "docs"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(sources, "docs", "a.txt"), "allowed\n");
  await writeFile(join(outside, "secret.txt"), "not for the hub\n");
  await symlink(outside, join(sources, "escape"));

  // The real borg, with every call but the version probe written down first.
  borgCalls = join(dir, "borg-calls.log");
  await mkdir(join(dir, "bin"));
  await writeFile(
    join(dir, "bin", "borg"),
    `#!/bin/sh\n[ "$1" = "--version" ] || echo "$*" >> '${borgCalls}'\nexec /usr/bin/borg "$@"\n`,
  );
  await chmod(join(dir, "bin", "borg"), 0o755);

  // Locked down before the machine is enrolled: no hub ever sees it unrestricted.
  configPath = join(dir, "config", "agent.toml");
  await mkdir(join(dir, "config"), { mode: 0o700 });
  await writeFile(
    configPath,
    [
      `allowed_source_roots = ["${sources}"]`,
      `allowed_repository_locations = ["${dir}/repos/*"]`,
      `allow_job_kinds = ["repo.init", "backup.create", "archive.list"]`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: admin,
    body: { name: "locked", expires_in_minutes: 10 },
  });
  const e = {
    env: { PATH: `${join(dir, "bin")}:${process.env.PATH}` },
    logger: createLogger({ level: "debug", write: () => {} }),
    version: "0.0.0-test",
  };
  await registerAgent(
    {
      serverUrl: server.url,
      token: (created.body as { token: string }).token,
      configPath,
      stateDir: join(dir, "state"),
      insecure: false,
    },
    e,
  );
  runtime = await createRuntime(await loadAgent(configPath, e), e);
  done = runtime.run(stop.signal);
});
afterAll(async () => {
  stop.abort();
  await done;
  server.stop();
  hub.close();
  await rm(dir, { recursive: true, force: true });
});

async function createRepository(name: string, extra: Record<string, unknown> = {}) {
  const [machine] = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  const response = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: machine?.id,
      location: join(dir, "repos", name),
      passphrase: PASSPHRASE,
      source_paths: [sources],
      ...extra,
    },
  });
  expect(response.status).toBe(201);
  return (response.body as { id: number }).id;
}

async function runJob(repositoryId: number, action: string, body: unknown = {}) {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
    body,
  });
  expect(queued.status).toBe(202);
  return waitForJob(hub, admin, (queued.body as { job_id: number }).job_id);
}

const calls = async () =>
  (await readFile(borgCalls, "utf8").catch(() => "")).split("\n").filter(Boolean);

describe("an agent with its own policy", () => {
  test("register kept the policy written before it, and added the commented block", async () => {
    const text = await readFile(configPath, "utf8");
    expect(parseToml(text)).toMatchObject({
      allowed_source_roots: [sources],
      allowed_repository_locations: [`${dir}/repos/*`],
      allow_job_kinds: ["repo.init", "backup.create", "archive.list"],
    });
    for (const key of [
      "allowed_source_roots",
      "allowed_repository_locations",
      "allowed_restore_roots",
      "allow_job_kinds",
    ]) {
      expect(text).toContain(`\n# ${key} = [`);
    }
  });

  test("jobs inside the policy run borg and complete", async () => {
    const id = await createRepository("allowed");
    expect((await runJob(id, "init")).status).toBe("completed");
    const backup = await runJob(id, "backup");
    expect({ status: backup.status, error: backup.error_message }).toEqual({
      status: "completed",
      error: null,
    });
    expect((await calls()).some((line) => line.startsWith("create "))).toBe(true);
  });

  test("a source outside allowed_source_roots fails the job, naming rule and path, without borg", async () => {
    const id = await createRepository("etc", { source_paths: ["/etc"] });
    expect((await runJob(id, "init")).status).toBe("completed");
    const before = await calls();
    const failed = await runJob(id, "backup");
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toBe(
      `agent policy: source path "/etc" is outside allowed_source_roots (${sources})`,
    );
    expect(await calls()).toEqual(before);
  });

  test("a symlink inside the allowed root that leads outside is refused the same way", async () => {
    const id = await createRepository("escape", { source_paths: [join(sources, "escape")] });
    expect((await runJob(id, "init")).status).toBe("completed");
    const before = await calls();
    const failed = await runJob(id, "backup");
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toBe(
      `agent policy: source path "${join(sources, "escape")}" resolves to "${outside}", outside allowed_source_roots (${sources})`,
    );
    expect(await calls()).toEqual(before);
  });

  test("a repository elsewhere is refused: no borg runs and nothing is created there", async () => {
    const elsewhere = join(dir, "elsewhere", "exfil");
    const id = await createRepository("exfil", { location: elsewhere });
    const before = await calls();
    const failed = await runJob(id, "init");
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toBe(
      `agent policy: repository location "${elsewhere}" matches none of allowed_repository_locations (${dir}/repos/*)`,
    );
    expect(existsSync(join(dir, "elsewhere"))).toBe(false);
    expect(await calls()).toEqual(before);
  });

  test("a job kind outside allow_job_kinds is refused before borg", async () => {
    const id = await createRepository("no-prune");
    expect((await runJob(id, "init")).status).toBe("completed");
    const before = await calls();
    const failed = await runJob(id, "prune", { keep_daily: 1 });
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toBe(
      'agent policy: job kind "repo.prune" is not in allow_job_kinds (repo.init, backup.create, archive.list)',
    );
    expect(await calls()).toEqual(before);
  });

  test("agent status shows the active policy, or that there is none", async () => {
    const printed: string[] = [];
    const log = spyOn(console, "log").mockImplementation((line: string) => {
      printed.push(line);
    });
    const unrestricted = join(dir, "config", "unrestricted.toml");
    try {
      await runCommand(statusCommand, { rawArgs: ["--config", configPath] });
      await runCommand(statusCommand, { rawArgs: ["--config", configPath, "--json"] });
      // The same identity without the policy keys: what every agent without a policy shows.
      const config = parseToml(await readFile(configPath, "utf8"));
      const kept = Object.entries(config).filter(([key]) => !/^allow/.test(key));
      await writeFile(
        unrestricted,
        kept.map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join("\n"),
        { mode: 0o600 },
      );
      await runCommand(statusCommand, { rawArgs: ["--config", unrestricted] });
    } finally {
      log.mockRestore();
      process.exitCode = 0;
    }
    const [text, json, none] = printed;
    expect(text).toContain(`\npolicy      allowed_source_roots = ${sources}\n`);
    expect(text).toContain(`\n            allowed_repository_locations = ${dir}/repos/*\n`);
    expect(text).toMatch(/\n {12}allow_job_kinds = repo\.init, backup\.create, archive\.list$/);
    expect(JSON.parse(json as string).policy).toEqual({
      allowed_source_roots: [sources],
      allowed_repository_locations: [`${dir}/repos/*`],
      allowed_restore_roots: null,
      allow_job_kinds: ["repo.init", "backup.create", "archive.list"],
    });
    expect(none).toMatch(/\npolicy {6}no restrictions$/);
  });

  // Last: it enrolls a second machine, which the tests above do not expect.
  test("agent register says whether a policy is active and points at the commented keys", async () => {
    const printed: string[] = [];
    const log = spyOn(console, "log").mockImplementation((line: string) => {
      printed.push(line);
    });
    const register = async (name: string) => {
      const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
        token: admin,
        body: { name, expires_in_minutes: 10 },
      });
      await runCommand(registerCommand, {
        rawArgs: [
          ...["--server", server.url, "--token", (created.body as { token: string }).token],
          ...["--config", join(dir, name, "agent.toml"), "--state-dir", join(dir, name, "state")],
        ],
      });
    };
    try {
      await register("plain");
      await mkdir(join(dir, "locked"), { mode: 0o700 });
      await writeFile(join(dir, "locked", "agent.toml"), 'allow_job_kinds = ["repo.info"]\n', {
        mode: 0o600,
      });
      await register("locked");
    } finally {
      log.mockRestore();
    }
    expect(printed[0]).toContain("\nPolicy: no restrictions (to limit what any hub may make");
    expect(printed[1]).toContain("\nPolicy: allow_job_kinds = repo.info\n");
  });
});
