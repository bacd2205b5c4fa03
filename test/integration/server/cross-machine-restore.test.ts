/**
 * Restore onto another machine, end to end in one process: the in-process hub, a real box
 * whose repos a real sshd on 127.0.0.1 serves, two real agents (A owns the repository, B
 * is the target) and the real borg. A backs up to its box repo; B restores a file from it
 * (bytes compared) through a key the hub lends on the box for that job only; afterwards
 * authorized_keys holds no line for B's key, after a failing restore too, and after a key
 * left over from a job that ended while the hub was not looking (the sweep). B owning a
 * repo on the same box is refused (sshd would let B's key into that one instead).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sweepLentKeys } from "../../../src/server/services/lent-box-keys.ts";
import { Job, Machine, Repository } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { BOX_TOKEN, startTestBox, type TestBox } from "../../helpers/box.ts";
import { createTestHub } from "../../helpers/hub.ts";

const PASSPHRASE = "cross-restore-passphrase";
const CONTENT = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256));
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let owner: TestAgentProcess;
let target: TestAgentProcess;
const running: { stop(): Promise<unknown> }[] = [];
let box: TestBox;
let ownerId: number;
let targetId: number;
let targetKeyBlob: string;
let targetKey: string;
let repositoryId: number;
let archive: string;
let sources: string;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  [box, owner, target] = await Promise.all([
    startTestBox(),
    enrollAgent(hub, server.url, admin, "owner"),
    enrollAgent(hub, server.url, admin, "target"),
  ]);
  sources = join(owner.dir, "sources");
  await mkdir(sources, { recursive: true });
  await writeFile(join(sources, "thesis.bin"), CONTENT);
  running.push(owner.start(), target.start());
  // Both agents run on this host: tell their machines apart by the SSH key each made.
  const blobOf = async (a: TestAgentProcess) =>
    (await readFile(a.agent.paths.sshPublicKey, "utf8")).split(" ")[1];
  const [ownerBlob, targetBlob] = await Promise.all([blobOf(owner), blobOf(target)]);
  for (let i = 0; i < 150 && !(ownerId && targetId); i++) {
    const machines = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    for (const m of machines) {
      if (!m.ssh_public_key || m.status !== "online") continue;
      const blob = m.ssh_public_key.split(" ")[1];
      if (blob === ownerBlob) ownerId = m.id;
      if (blob && blob === targetBlob) {
        targetId = m.id;
        targetKey = m.ssh_public_key.split(" ").slice(0, 2).join(" ");
        targetKeyBlob = blob;
      }
    }
    if (!(ownerId && targetId)) await Bun.sleep(100);
  }
  expect(ownerId).toBeNumber();
  expect(targetId).toBeNumber();
  const registered = await hub.request("POST", "/api/boxes", {
    token: admin,
    body: {
      name: "box",
      url: box.box.url,
      token: BOX_TOKEN,
      ssh_host: "127.0.0.1",
      ssh_port: box.sshd.port,
      ssh_user: box.sshd.user,
    },
  });
  expect(registered.status).toBe(201);
  const boxId = (registered.body as { id: number }).id;
  const created = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name: "laptop",
      agent_machine_id: ownerId,
      box_id: boxId,
      passphrase: PASSPHRASE,
      source_paths: [sources],
    },
  });
  expect(created.status).toBe(201);
  const repository = Repository.parse(created.body);
  repositoryId = repository.id;
  expect((await waitForJob(hub, admin, repository.init_job_id as number)).status).toBe("completed");
  const backup = await runJob(`/api/repositories/${repositoryId}/backup`, {});
  expect(backup.status).toBe("completed");
  archive = backup.result?.archive_name as string;
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  server.stop();
  hub.close();
  await box?.stop();
  await Promise.all([owner, target].map((a) => a && rm(a.dir, { recursive: true, force: true })));
});

async function runJob(path: string, body: unknown) {
  const queued = await hub.request("POST", path, { token: admin, body });
  expect(queued.status).toBe(202);
  return Job.parse(await waitForJob(hub, admin, (queued.body as { job_id: number }).job_id));
}

const restoreOnTarget = (body: Record<string, unknown>) =>
  runJob(`/api/repositories/${repositoryId}/restore`, {
    archive,
    target_machine_id: targetId,
    ...body,
  });

const keysFile = () => readFile(box.keysFile, "utf8");

/**
 * authorized_keys once the hub has handled the job's end: the job row turns terminal in
 * the UPDATE, and the key is returned right after it, so poll (bounded) for the line.
 */
async function keysFileAfterJob(): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const content = await keysFile();
    const rows = await hub.deps.store.lentBoxKeys.due(Number.MAX_SAFE_INTEGER, 10);
    if (!content.includes("borgbox-lent:") && rows.length === 0) return content;
    await Bun.sleep(100);
  }
  return keysFile();
}

describe("restore onto another machine (real box, sshd, two agents, borg)", () => {
  test("the target restores a file through a key lent for the job; the line is gone afterwards", async () => {
    expect(await keysFile()).not.toContain(targetKeyBlob);
    const destination = join(target.dir, "restored");
    const member = `${sources.replace(/^\/+/, "")}/thesis.bin`;
    const job = await restoreOnTarget({ paths: [`/${member}`], destination });
    expect(job.status).toBe("completed");
    expect(job.agent_machine_id).toBe(targetId);
    expect(job.result?.files).toBe(1);
    expect(Buffer.compare(await readFile(join(destination, member)), CONTENT)).toBe(0);
    const after = await keysFileAfterJob();
    expect(after).not.toContain(targetKeyBlob);
    expect(after).not.toContain("borgbox-lent:");
    expect(after).toContain("# borgbox:laptop");
    expect(await hub.deps.store.lentBoxKeys.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    expect(target.logLines.join("\n")).not.toContain(PASSPHRASE);
    // The lend and the return are on the audit trail, naming the job.
    for (const action of ["box.key_lent", "box.key_returned"]) {
      const trail = await hub.request("GET", `/api/audit?limit=100&action=${action}`, {
        token: admin,
      });
      expect(trail.status).toBe(200);
      expect(JSON.stringify(trail.body)).toContain(`"job_id":${job.id}`);
    }
  }, 120_000);

  test("a failing restore returns the key too", async () => {
    const job = await restoreOnTarget({
      archive: "no-such-archive",
      paths: [],
      destination: join(target.dir, "never"),
    });
    expect(job.status).toBe("failed");
    expect(job.error_message ?? "").toContain("no-such-archive");
    expect(await keysFileAfterJob()).not.toContain(targetKeyBlob);
    expect(await hub.deps.store.lentBoxKeys.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  }, 120_000);

  test("keys left over while the hub was not looking are taken back by the sweep", async () => {
    const boxId = (await hub.deps.store.boxes.list())[0]?.id as number;
    const leftover = async (tag: string, createdAt: number, jobId?: number) => {
      const row = await hub.deps.store.lentBoxKeys.insert(
        { boxId, repoName: "laptop", tag },
        createdAt,
      );
      if (jobId !== undefined) await hub.deps.store.lentBoxKeys.attachJob(row.id, jobId);
      expect((await box.api("POST", "/repos/laptop/keys", { tag, pubkey: targetKey })).status).toBe(
        204,
      );
    };
    // A job that ended while the hub was down (its hook never ran): the row names a
    // terminal job, the box still holds the line.
    const ended = await hub.request("GET", `/api/jobs?repository_id=${repositoryId}`, {
      token: admin,
    });
    const terminal = (ended.body as Job[]).find((j) => j.status === "failed");
    expect(terminal).toBeDefined();
    await leftover("ended-unseen", hub.deps.clock(), terminal?.id);
    expect(await keysFile()).toContain("# borgbox-lent:laptop:ended-unseen");
    await sweepLentKeys(hub.deps);
    expect(await keysFile()).not.toContain(targetKeyBlob);
    // A hub that died between the lend and the queueing: a row without a job, old enough.
    await leftover("orphan", 0);
    await sweepLentKeys(hub.deps);
    expect(await keysFile()).not.toContain(targetKeyBlob);
    expect(await hub.deps.store.lentBoxKeys.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  }, 60_000);

  test("a target that owns a repo on the same box is refused, nothing lent", async () => {
    const boxId = (await hub.deps.store.boxes.list())[0]?.id as number;
    const own = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: {
        name: "target-own",
        agent_machine_id: targetId,
        box_id: boxId,
        passphrase: PASSPHRASE,
        source_paths: [target.dir],
      },
    });
    expect(own.status).toBe(201);
    const before = await keysFile();
    const refused = await hub.request("POST", `/api/repositories/${repositoryId}/restore`, {
      token: admin,
      body: { archive, paths: [], destination: join(target.dir, "x"), target_machine_id: targetId },
    });
    expect(refused.status).toBe(409);
    expect(ErrorBody.parse(refused.body).error).toContain('backs up to repository "target-own"');
    expect(await keysFile()).toBe(before);
  }, 60_000);
});
