/**
 * A borg that exits 0 but prints --json output that does not parse (issue 11, item 2):
 * the job fails with "borg finished but its output could not be read: …" instead of
 * completing without stats (a backup) or with no archives (a list), and the repository
 * keeps what it had. A real borg prints valid JSON whenever it succeeds, so this is a
 * fake borg on PATH (first in line); the agent runs in-process against a hub served on
 * 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRuntime } from "../../../src/agent/start.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { Archives, type Job, type Machine, Repository } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]> | undefined;
let bin: string;
let repositoryId: number;

const ARCHIVES = [{ id: "aa11", name: "laptop-1", time: "2026-01-01T00:00:00.000000" }];
const LIST_JSON = JSON.stringify({
  archives: ARCHIVES.map((a) => ({ ...a, archive: a.name, barchive: a.name })),
  repository: { id: "r1", location: "/srv/borg/laptop" },
});

/** What the fake borg prints on stdout for `create` and `list` (a file per subcommand). */
const stdoutFor = (subcommand: string, text: string) =>
  writeFile(join(bin, `${subcommand}.stdout`), text);

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  bin = join(agent.dir, "fake-bin");
  await mkdir(bin, { recursive: true });
  // --version as 1.2.4; create/list print their stdout file; everything exits 0.
  await writeFile(
    join(bin, "borg"),
    [
      "#!/bin/sh",
      'if [ "$1" = "--version" ]; then echo "borg 1.2.4"; exit 0; fi',
      `if [ -f "${bin}/$1.stdout" ]; then cat "${bin}/$1.stdout"; fi`,
      "exit 0",
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "borg"), 0o755);
  agent.runtime = await createRuntime(agent.agent, {
    env: { PATH: `${bin}:${process.env.PATH}` },
    logger: createLogger({ level: "debug", write: (line) => agent.logLines.push(line) }),
    version: "0.0.0-test",
  });
  running = agent.start();

  const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  const created = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name: "laptop",
      agent_machine_id: machines[0]?.id,
      location: join(agent.dir, "repos", "laptop"),
      passphrase: "unreadable-output-passphrase",
      source_paths: [agent.dir],
    },
  });
  expect(created.status).toBe(201);
  repositoryId = Repository.parse(created.body).id;
});
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
}, 30_000);

const TERMINAL = ["completed", "completed_with_warnings", "failed", "canceled"];

async function run(action: string): Promise<Job> {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
    body: {},
  });
  expect(queued.status).toBe(202);
  const id = (queued.body as { job_id: number }).job_id;
  let job: Job | undefined;
  for (let i = 0; i < 300; i++) {
    job = (await hub.request("GET", `/api/jobs/${id}`, { token: admin })).body as Job;
    if (TERMINAL.includes(job.status)) return job;
    await Bun.sleep(100);
  }
  return job as Job;
}

const repository = async () =>
  Repository.parse(
    (await hub.request("GET", `/api/repositories/${repositoryId}`, { token: admin })).body,
  );

describe("borg exits 0 with unreadable --json output", () => {
  test("a backup fails, saying so, and records no backup", async () => {
    await stdoutFor("create", "Archive name: laptop-2026\nDuration: 0.01 seconds\n");
    const job = await run("backup");
    expect(job).toMatchObject({ status: "failed", return_code: 0, result: null });
    expect(job.error_message).toStartWith(
      "borg finished but its output could not be read: stdout is not JSON (",
    );
    expect(await repository()).toMatchObject({ last_result: "failed", last_backup_at: null });
  }, 60_000);

  test("a backup whose JSON lacks the stats fails too", async () => {
    await stdoutFor("create", JSON.stringify({ archive: { name: "laptop-2026", id: "bb" } }));
    const job = await run("backup");
    expect(job.status).toBe("failed");
    expect(job.error_message).toStartWith(
      "borg finished but its output could not be read: unexpected JSON: archive.stats: ",
    );
  }, 60_000);

  test("a list fails instead of storing no archives; the last good list stays", async () => {
    await stdoutFor("list", LIST_JSON);
    expect((await run("list")).status).toBe("completed");
    const listed = async () =>
      Archives.parse(
        (await hub.request("GET", `/api/repositories/${repositoryId}/archives`, { token: admin }))
          .body,
      );
    const before = await listed();
    expect(before.archives).toEqual(ARCHIVES);

    await stdoutFor("list", "");
    const job = await run("list");
    expect(job).toMatchObject({ status: "failed", return_code: 0 });
    expect(job.error_message).toBe(
      "borg finished but its output could not be read: stdout is empty",
    );
    expect(await listed()).toEqual(before);
  }, 60_000);
});
