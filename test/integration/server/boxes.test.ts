/**
 * Storage boxes managed by the hub, end to end in one process: the in-process hub (served
 * on 127.0.0.1 for its agent), a real box whose repos a real sshd on 127.0.0.1 serves, a
 * real agent and the real borg. One call creates the box repo with the machine's key,
 * pins the box's host keys and initializes it; a backup goes over SSH and the box sees
 * it; append-only stops the machine's key from deleting; a box advertising another host
 * key makes the job fail saying so; purge removes the key line and the directory; a box
 * that went away shows offline and nothing is created on it; a failed step is undone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { refreshAllBoxes } from "../../../src/server/services/boxes.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { Box, BoxRepoList, Job, Machine, Repository } from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { BOX_TOKEN, startTestBox, type TestBox } from "../../helpers/box.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { generateKey } from "../../helpers/sshd.ts";

const PASSPHRASE = "box-integration-passphrase";
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]>;
let box: TestBox;
/** A second box whose /info advertises a host key its sshd does not have. */
let impostor: TestBox;
/** A third box, holding a repo made before the hub knew the box (to import). */
let spare: TestBox;
let machineId: number;
let sources: string;

const errorOf = (body: unknown) => ErrorBody.parse(body);

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  [box, impostor, spare, agent] = await Promise.all([
    startTestBox(),
    startTestBox({
      sshHostKeys: async (dir) => {
        const other = await generateKey(dir, "not-the-sshd-host-key");
        return `${other.privatePath}.pub`;
      },
    }),
    startTestBox(),
    enrollAgent(hub, server.url, admin),
  ]);
  sources = join(agent.dir, "sources");
  await mkdir(sources, { recursive: true });
  for (let i = 0; i < 10; i++)
    await writeFile(join(sources, `f${i}.txt`), `data ${i}\n`.repeat(300));
  running = agent.start();
  // The machine reports its SSH public key when it registers and on its heartbeats.
  for (let i = 0; i < 100; i++) {
    const machines = Machine.array().parse(
      (await hub.request("GET", "/api/managed-machines", { token: admin })).body,
    );
    if (machines[0]?.ssh_public_key && machines[0].status === "online") {
      machineId = machines[0].id;
      break;
    }
    await Bun.sleep(100);
  }
  expect(machineId).toBeDefined();
}, 60_000);

afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await Promise.all([box?.stop(), impostor?.stop(), spare?.stop()]);
  await rm(agent.dir, { recursive: true, force: true });
});

async function register(name: string, target: TestBox, extra: Record<string, unknown> = {}) {
  return hub.request("POST", "/api/boxes", {
    token: admin,
    body: {
      name,
      url: target.box.url,
      token: BOX_TOKEN,
      ssh_host: "127.0.0.1",
      ssh_port: target.sshd.port,
      ssh_user: target.sshd.user,
      ...extra,
    },
  });
}

async function createOnBox(name: string, boxId: number, extra: Record<string, unknown> = {}) {
  return hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name,
      agent_machine_id: machineId,
      box_id: boxId,
      passphrase: PASSPHRASE,
      source_paths: [sources],
      ...extra,
    },
  });
}

async function runJob(repositoryId: number, action: string, body: unknown = {}) {
  const queued = await hub.request("POST", `/api/repositories/${repositoryId}/${action}`, {
    token: admin,
    body,
  });
  expect(queued.status).toBe(202);
  return Job.parse(await waitForJob(hub, admin, (queued.body as { job_id: number }).job_id));
}

const sshHostKeyOf = (t: TestBox) => t.sshd.hostKeyLine.split(" ").slice(0, 2).join(" ");

let boxId: number;

describe("storage boxes in the hub (real box, sshd, agent and borg)", () => {
  test("registration checks /info first: a wrong token or no box is refused with the reason", async () => {
    const wrong = await register("wrong-token", box, { token: "not-the-token-0123456789" });
    expect(wrong.status).toBe(400);
    expect(errorOf(wrong.body).error).toContain("refused the token");
    const nobody = await hub.request("POST", "/api/boxes", {
      token: admin,
      body: { name: "nobody", url: "http://127.0.0.1:9/", token: BOX_TOKEN },
    });
    expect(nobody.status).toBe(400);
    expect(errorOf(nobody.body).error).toContain("did not answer");
    const injected = await register("bad-user", box, { ssh_user: "-oProxyCommand=x" });
    expect(injected.status).toBe(400);
    expect(errorOf(injected.body).error).toContain("ssh_user");
    expect(
      Box.array().parse((await hub.request("GET", "/api/boxes", { token: admin })).body),
    ).toEqual([]);

    const created = await register("main", box);
    expect(created.status).toBe(201);
    const registered = Box.parse(created.body);
    boxId = registered.id;
    expect(registered).toMatchObject({
      status: "online",
      ssh_host: "127.0.0.1",
      ssh_port: box.sshd.port,
      ssh_host_keys: [sshHostKeyOf(box)],
      repo_count: 0,
    });
    expect(registered.free_bytes ?? 0).toBeGreaterThan(0);
    // The token is nowhere to be read: not in answers, logs or the table (sealed there).
    expect(created.text).not.toContain(BOX_TOKEN);
    expect(hub.logLines.join("\n")).not.toContain(BOX_TOKEN);
    const rows = hub.database.sqlite.query("SELECT * FROM boxes").all();
    expect(JSON.stringify(rows)).not.toContain(BOX_TOKEN);
    const again = await hub.request("GET", `/api/boxes/${boxId}`, { token: admin });
    expect(again.text).not.toContain(BOX_TOKEN);
    // A new token is checked against the box before it replaces the old one.
    const badPatch = await hub.request("PATCH", `/api/boxes/${boxId}`, {
      token: admin,
      body: { token: "another-wrong-token-0123456" },
    });
    expect(badPatch.status).toBe(400);
    expect(errorOf(badPatch.body).error).toContain("refused the token");
    const renamed = await hub.request("PATCH", `/api/boxes/${boxId}`, {
      token: admin,
      body: { name: "main", token: BOX_TOKEN },
    });
    expect(renamed.status).toBe(200);
    expect(Box.parse(renamed.body).status).toBe("online");
  });

  test("one call creates the box repo with the machine's key, pins the host keys and initializes it", async () => {
    const created = await createOnBox("laptop", boxId);
    expect(created.status).toBe(201);
    const repository = Repository.parse(created.body);
    expect(repository.box_id).toBe(boxId);
    expect(repository.location).toBe(
      `ssh://${box.sshd.user}@127.0.0.1:${box.sshd.port}${join(box.root, "laptop")}`,
    );
    expect(repository.init_job_id).toBeNumber();
    // The machine's own key, pinned to that one repo.
    const machine = Machine.parse(
      (await hub.request("GET", `/api/managed-machines/${machineId}`, { token: admin })).body,
    );
    const keyBlob = machine.ssh_public_key?.split(" ")[1] as string;
    const keys = await readFile(box.keysFile, "utf8");
    expect(keys).toContain(`--restrict-to-repository ${join(box.root, "laptop")}",restrict`);
    expect(keys).toContain(keyBlob);
    expect(keys.startsWith(box.handWritten)).toBe(true);

    const init = Job.parse(await waitForJob(hub, admin, repository.init_job_id as number));
    expect(init.status).toBe("completed");
    expect(existsSync(join(box.root, "laptop", "config"))).toBe(true);

    const backup = await runJob(repository.id, "backup");
    expect(backup.status).toBe("completed");
    expect(backup.result?.stats?.nfiles).toBe(10);
    const listed = BoxRepoList.parse(
      (await hub.request("GET", `/api/boxes/${boxId}/repos`, { token: admin })).body,
    );
    const repo = listed.repos.find((r) => r.name === "laptop");
    expect(repo).toMatchObject({
      initialized: true,
      registered: true,
      repository_id: repository.id,
    });
    expect(repo?.last_write_at).not.toBeNull();
    expect(repo?.size_bytes ?? 0).toBeGreaterThan(0);
    expect(agent.logLines.join("\n")).not.toContain(PASSPHRASE);

    // One machine key reaches one repo per box: a second one is refused, nothing created.
    const second = await createOnBox("second", boxId);
    expect(second.status).toBe(409);
    expect(errorOf(second.body).error).toContain('already backs up to repository "laptop"');
    expect(existsSync(join(box.root, "second"))).toBe(false);

    // Purge: the key line and the directory go; lines the box does not own stay.
    const gone = await hub.request("DELETE", `/api/repositories/${repository.id}?purge=true`, {
      token: admin,
    });
    expect(gone.status).toBe(204);
    const after = await readFile(box.keysFile, "utf8");
    expect(after).not.toContain("# borgbox:laptop");
    expect(after).not.toContain(keyBlob);
    expect(after).toBe(box.handWritten);
    expect(existsSync(join(box.root, "laptop"))).toBe(false);
    expect(
      (await hub.request("GET", `/api/repositories/${repository.id}`, { token: admin })).status,
    ).toBe(404);
  }, 120_000);

  test("append-only: the machine's key cannot delete the repository; box-side prune works", async () => {
    const keeperOnAgent = await createOnBox("vault", boxId, {
      append_only: true,
      passphrase_location: "agent",
      passphrase: undefined,
    });
    expect(keeperOnAgent.status).toBe(400);
    expect(errorOf(keeperOnAgent.body).error).toContain("passphrase kept by the hub");
    expect(existsSync(join(box.root, "vault"))).toBe(false);

    const created = await createOnBox("vault", boxId, { append_only: true });
    expect(created.status).toBe(201);
    const repository = Repository.parse(created.body);
    expect(repository.append_only).toBe(true);
    const init = Job.parse(await waitForJob(hub, admin, repository.init_job_id as number));
    expect({ status: init.status, error: init.error_message }).toEqual({
      status: "completed",
      error: null,
    });
    expect((await runJob(repository.id, "backup")).status).toBe("completed");
    expect((await runJob(repository.id, "backup")).status).toBe("completed");

    // The machine's own key, as borg on the machine would use it: deleting is refused.
    const machineKey = { privatePath: agent.agent.paths.sshKey, publicLine: "" };
    const deleted = await box.borg(
      machineKey,
      ["delete", "--force", box.sshd.url(join(box.root, "vault"))],
      { passphrase: PASSPHRASE },
    );
    expect(deleted.exitCode).not.toBe(0);
    expect(deleted.stderrTail.join("\n")).toMatch(/append-only/i);
    expect(existsSync(join(box.root, "vault", "config"))).toBe(true);

    // On the box, with the passphrase the hub holds: prune runs and keeps one archive.
    const prune = await box.api("POST", "/repos/vault/prune", {
      keep_daily: 1,
      passphrase: PASSPHRASE,
    });
    expect(prune.status).toBe(202);
    const jobId = (prune.body as { job_id: string }).job_id;
    let status = "";
    for (let i = 0; i < 300 && status !== "done" && status !== "error"; i++) {
      status = ((await box.api("GET", `/jobs/${jobId}`)).body as { status: string }).status;
      if (status !== "done" && status !== "error") await Bun.sleep(100);
    }
    expect(status).toBe("done");
    const archives = await box.api("GET", "/repos/vault/archives", undefined, {
      "x-borg-passphrase": PASSPHRASE,
    });
    expect((archives.body as unknown[]).length).toBe(1);

    // A box still holding the hub's repositories is not deleted.
    const busy = await hub.request("DELETE", `/api/boxes/${boxId}`, { token: admin });
    expect(busy.status).toBe(409);
    // Without purge the data stays on the box, and the answer says so.
    const plain = await hub.request("DELETE", `/api/repositories/${repository.id}`, {
      token: admin,
    });
    expect(plain.status).toBe(200);
    expect((plain.body as { message: string }).message).toContain('stays on box "main"');
    expect(existsSync(join(box.root, "vault", "config"))).toBe(true);
    expect(await readFile(box.keysFile, "utf8")).toContain("# borgbox:vault");
  }, 180_000);

  test("a box advertising another host key: the job fails saying the pinned key does not match", async () => {
    const created = await register("impostor", impostor);
    expect(created.status).toBe(201);
    const other = Box.parse(created.body);
    expect(other.ssh_host_keys).not.toContain(sshHostKeyOf(impostor));
    const repo = await createOnBox("mismatch", other.id);
    expect(repo.status).toBe(201);
    const init = Job.parse(
      await waitForJob(hub, admin, Repository.parse(repo.body).init_job_id as number),
    );
    expect(init.status).toBe("failed");
    expect(init.error_message).toContain(
      "the storage box's SSH host key does not match the one the hub pinned",
    );
    expect(existsSync(join(impostor.root, "mismatch", "config"))).toBe(false);
  }, 120_000);

  test("an existing box repo is imported: the machine's key is registered for it, its data kept", async () => {
    // A repository made on the box itself, before the hub knew about it.
    const path = join(spare.root, "old-backups");
    await mkdir(spare.root, { recursive: true });
    const made = await runProcess({
      argv: ["borg", "init", "--encryption=repokey-blake2", path],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        BORG_PASSPHRASE: PASSPHRASE,
        BORG_BASE_DIR: join(spare.dir, "local-borg"),
      },
      stderrTailLines: 10,
    });
    expect({ code: made.exitCode, stderr: made.exitCode === 0 ? [] : made.stderrTail }).toEqual({
      code: 0,
      stderr: [],
    });
    const registered = Box.parse((await register("spare", spare)).body);

    const missing = await createOnBox("not-there", registered.id, { box_repo: "nope" });
    expect(missing.status).toBe(409);
    expect(errorOf(missing.body).error).toContain("the box has no repo of that name");

    const imported = await createOnBox("old backups", registered.id, { box_repo: "old-backups" });
    expect(imported.status).toBe(201);
    const repository = Repository.parse(imported.body);
    expect(repository.init_job_id).toBeUndefined(); // it is initialized already
    expect(repository.location).toEndWith(`:${spare.sshd.port}${path}`);
    expect(await readFile(spare.keysFile, "utf8")).toContain("# borgbox:old-backups");
    const backup = await runJob(repository.id, "backup");
    expect({ status: backup.status, error: backup.error_message }).toEqual({
      status: "completed",
      error: null,
    });
  }, 120_000);

  test("a failed later step undoes the earlier ones: no orphan box repo, no orphan record", async () => {
    // A disabled machine cannot be given jobs: queueing repo.init (step 3) fails.
    expect(
      (await hub.request("POST", `/api/managed-machines/${machineId}/disable`, { token: admin }))
        .status,
    ).toBe(200);
    try {
      const refused = await createOnBox("undone", boxId);
      expect(refused.status).toBe(409);
      const message = errorOf(refused.body).error;
      expect(message).toContain("queueing repo.init failed");
      expect(message).toContain("the repository record was removed again");
      expect(message).toContain('repo "undone" was removed from box "main" again');
      expect(existsSync(join(box.root, "undone"))).toBe(false);
      expect(await readFile(box.keysFile, "utf8")).not.toContain("# borgbox:undone");
      const names = Repository.array()
        .parse((await hub.request("GET", "/api/repositories", { token: admin })).body)
        .map((r) => r.name);
      expect(names).not.toContain("undone");
    } finally {
      await hub.request("POST", `/api/managed-machines/${machineId}/enable`, { token: admin });
    }
  });

  test("a box that goes down shows offline, and creating a repository on it is refused cleanly", async () => {
    const other = await register("going-down", impostor);
    // The impostor is registered twice by now; this one is stopped under the hub.
    const id = Box.parse(other.body).id;
    await impostor.box.stop();
    // The minute's background pass (start.ts runs exactly this) marks it offline in the list.
    await refreshAllBoxes(hub.deps);
    const listed = Box.array().parse(
      (await hub.request("GET", "/api/boxes", { token: admin })).body,
    );
    expect(listed.find((b) => b.id === id)?.status).toBe("offline");
    expect(listed.find((b) => b.id === boxId)?.status).toBe("online");
    const seen = Box.parse((await hub.request("GET", `/api/boxes/${id}`, { token: admin })).body);
    expect(seen.status).toBe("offline");
    expect(seen.last_error).toContain("cannot reach");
    expect(seen.ssh_host_keys.length).toBe(1); // the last known facts stay
    const refused = await createOnBox("nowhere", id);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body).error).toContain(
      'checking box "going-down" failed: it is offline',
    );
    const names = Repository.array()
      .parse((await hub.request("GET", "/api/repositories", { token: admin })).body)
      .map((r) => r.name);
    expect(names).not.toContain("nowhere");
  });
});
