import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOB_KINDS, PLAN_PRUNE_CAPABILITY } from "../../../src/shared/protocol/agent.ts";
import {
  Archives,
  DEFAULT_ARCHIVE_NAME,
  Job,
  JobAccepted,
  Repository,
} from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { createTestHub } from "../../helpers/hub.ts";
import {
  addAgentMachine,
  createRepository,
  type TestAgent,
  userWithRole,
} from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let admin: string;
let operator: string;
let viewer: string;
let agent: TestAgent;

beforeAll(async () => {
  admin = await hub.login();
  operator = await userWithRole(hub, "operator");
  viewer = await userWithRole(hub, "viewer");
  agent = await addAgentMachine(hub);
});
afterAll(() => hub.close());

let locations = 0;
// Each record its own location: one machine may not have two records for one repository.
const base = () => ({
  agent_machine_id: agent.machineId,
  location: `ssh://backup@example.net:22/./laptop-${++locations}`,
  source_paths: ["/home/me"],
});

const errorOf = (body: unknown) => ErrorBody.parse(body);

describe("repositories: create and validate", () => {
  test("an admin creates one; defaults are filled in; the passphrase never comes back", async () => {
    const response = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "laptop", passphrase: "correct horse battery staple" },
    });
    expect(response.status).toBe(201);
    const repo = Repository.parse(response.body);
    expect(repo).toMatchObject({
      name: "laptop",
      execution_target: "agent",
      agent_machine_id: agent.machineId,
      box_id: null,
      borg_version: 1,
      encryption: "repokey-blake2",
      passphrase_location: "hub",
      has_passphrase: true,
      compression: "lz4",
      archive_name: DEFAULT_ARCHIVE_NAME,
      exclude_patterns: [],
      append_only: false,
      last_backup_at: null,
    });
    expect(response.text).not.toContain("correct horse");
    expect(response.text).not.toContain("passphrase_encrypted");
    expect(response.text).not.toMatch(/"passphrase"\s*:/);
  });

  test("a viewer may not create (403); anonymous gets 401", async () => {
    const body = { ...base(), name: "nope", passphrase: "x-secret-x" };
    expect((await hub.request("POST", "/api/repositories", { token: viewer, body })).status).toBe(
      403,
    );
    expect((await hub.request("POST", "/api/repositories", { body })).status).toBe(401);
    // An agent credential is not a user credential.
    expect(
      (await hub.request("GET", "/api/repositories", { agentToken: agent.token })).status,
    ).toBe(401);
  });

  test("passphrase rules: hub + encrypted needs one; agent must not carry one; none takes none", async () => {
    const missing = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "p1" },
    });
    expect(missing.status).toBe(400);
    expect(errorOf(missing.body).error).toContain("needs a passphrase");

    const agentWithSecret = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "p2", passphrase_location: "agent", passphrase: "nope-nope-nope" },
    });
    expect(agentWithSecret.status).toBe(400);

    const agentSide = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "p3", passphrase_location: "agent" },
    });
    expect(agentSide.status).toBe(201);
    expect(Repository.parse(agentSide.body)).toMatchObject({
      passphrase_location: "agent",
      has_passphrase: false,
    });

    const plain = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "p4", encryption: "none" },
    });
    expect(plain.status).toBe(201);
    expect(Repository.parse(plain.body).has_passphrase).toBe(false);
    const plainWithSecret = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "p5", encryption: "none", passphrase: "pointless-1" },
    });
    expect(plainWithSecret.status).toBe(400);
  });

  test("duplicate name 409; unknown machine 404; revoked machine 409; box_id 400; unknown field 400", async () => {
    const dup = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "laptop", passphrase: "whatever-1" },
    });
    expect(dup.status).toBe(409);
    expect(errorOf(dup.body).code).toBe("conflict");

    const unknown = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "u1", agent_machine_id: 99_999, passphrase: "whatever-1" },
    });
    expect(unknown.status).toBe(404);

    const revoked = await addAgentMachine(hub, { status: "revoked" });
    const onRevoked = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: {
        ...base(),
        name: "u2",
        agent_machine_id: revoked.machineId,
        passphrase: "w-12345678",
      },
    });
    expect(onRevoked.status).toBe(409);

    const box = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: {
        name: "u3",
        agent_machine_id: agent.machineId,
        box_id: 1,
        source_paths: ["/x"],
        passphrase: "w-12345678",
      },
    });
    expect(box.status).toBe(400);
    expect(errorOf(box.body).error).toContain("box_id: no box 1");

    const extra = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "u4", passphrase: "w-12345678", owner: "me" },
    });
    expect(extra.status).toBe(400);
    expect(errorOf(extra.body).code).toBe("validation_failed");

    const noLocation = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { name: "u5", agent_machine_id: agent.machineId, source_paths: ["/x"] },
    });
    expect(noLocation.status).toBe(400);
  });

  test("locations and archive names that borg would misread are refused", async () => {
    for (const location of ["-repo", "/srv/a\nb", "/srv/a\u0000b", "/srv/x::y"]) {
      const response = await hub.request("POST", "/api/repositories", {
        token: admin,
        body: { ...base(), name: `bad-${location.length}`, location, passphrase: "w-12345678" },
      });
      expect(response.status).toBe(400);
    }
    const badArchive = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: { ...base(), name: "bad-archive", archive_name: "a/b", passphrase: "w-12345678" },
    });
    expect(badArchive.status).toBe(400);
    // borg 2 has no REPO::ARCHIVE syntax, so "::" is fine there.
    const borg2 = await hub.request("POST", "/api/repositories", {
      token: admin,
      body: {
        ...base(),
        name: "borg2",
        borg_version: 2,
        location: "/srv/x::y",
        passphrase: "w-12345678",
      },
    });
    expect(borg2.status).toBe(201);
  });
});

describe("repositories: read, update, delete", () => {
  test("list and get (viewer); get carries the last job", async () => {
    const list = await hub.request("GET", "/api/repositories", { token: viewer });
    expect(list.status).toBe(200);
    const repos = Repository.array().parse(list.body);
    const laptop = repos.find((r) => r.name === "laptop");
    expect(laptop).toBeDefined();
    const one = await hub.request("GET", `/api/repositories/${laptop?.id}`, { token: viewer });
    expect(one.status).toBe(200);
    expect(Repository.parse(one.body).name).toBe("laptop");
    expect((one.body as { last_job: unknown }).last_job).toBeNull();

    const queued = await hub.request("POST", `/api/repositories/${laptop?.id}/backup`, {
      token: operator,
    });
    expect(queued.status).toBe(202);
    const { job_id } = JobAccepted.parse(queued.body);
    const again = await hub.request("GET", `/api/repositories/${laptop?.id}`, { token: viewer });
    const lastJob = Job.parse((again.body as { last_job: unknown }).last_job);
    expect(lastJob).toMatchObject({ id: job_id, type: "backup.create", status: "queued" });

    expect((await hub.request("GET", "/api/repositories/424242", { token: viewer })).status).toBe(
      404,
    );
    expect((await hub.request("GET", "/api/repositories/abc", { token: viewer })).status).toBe(404);
  });

  test("patch changes settings, re-encrypts a new passphrase, refuses a taken name", async () => {
    const repo = await createRepository(hub, admin, agent.machineId, { name: "patchme" });
    const before = await hub.deps.store.repositories.sealedPassphrase(repo.id);
    const patched = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: {
        source_paths: ["/srv/data"],
        compression: "zstd,3",
        passphrase: "a-brand-new-passphrase",
      },
    });
    expect(patched.status).toBe(200);
    const body = Repository.parse(patched.body);
    expect(body.source_paths).toEqual(["/srv/data"]);
    expect(body.compression).toBe("zstd,3");
    expect(body.has_passphrase).toBe(true);
    expect(patched.text).not.toContain("a-brand-new-passphrase");
    const after = await hub.deps.store.repositories.sealedPassphrase(repo.id);
    expect(after).not.toBe(before);
    expect(hub.deps.secretBox.decrypt(after as string)).toBe("a-brand-new-passphrase");

    const taken = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: admin,
      body: { name: "laptop" },
    });
    expect(taken.status).toBe(409);
    const byViewer = await hub.request("PATCH", `/api/repositories/${repo.id}`, {
      token: viewer,
      body: { compression: "lz4" },
    });
    expect(byViewer.status).toBe(403);
    const agentSide = await createRepository(hub, admin, agent.machineId, {
      passphrase_location: "agent",
      passphrase: undefined,
    });
    const secretForAgentRepo = await hub.request("PATCH", `/api/repositories/${agentSide.id}`, {
      token: admin,
      body: { passphrase: "should-not-be-stored" },
    });
    expect(secretForAgentRepo.status).toBe(400);
  });

  test("delete removes the record; purge is refused off a box; active jobs block deletion", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    const purge = await hub.request("DELETE", `/api/repositories/${repo.id}?purge=true`, {
      token: admin,
    });
    expect(purge.status).toBe(400);
    const job = JobAccepted.parse(
      (await hub.request("POST", `/api/repositories/${repo.id}/check`, { token: operator })).body,
    );
    const blocked = await hub.request("DELETE", `/api/repositories/${repo.id}`, {
      token: admin,
    });
    expect(blocked.status).toBe(409);
    expect(
      (await hub.request("POST", `/api/jobs/${job.job_id}/cancel`, { token: operator })).status,
    ).toBe(202);
    expect(
      (await hub.request("DELETE", `/api/repositories/${repo.id}`, { token: viewer })).status,
    ).toBe(403);
    const removed = await hub.request("DELETE", `/api/repositories/${repo.id}`, {
      token: admin,
    });
    expect(removed.status).toBe(204);
    expect(
      (await hub.request("GET", `/api/repositories/${repo.id}`, { token: viewer })).status,
    ).toBe(404);
    expect(
      (await hub.request("DELETE", `/api/repositories/${repo.id}`, { token: admin })).status,
    ).toBe(404);
    // The finished job stays in the history, detached from the repository.
    const kept = Job.parse(
      (await hub.request("GET", `/api/jobs/${job.job_id}`, { token: viewer })).body,
    );
    expect(kept.repository_id).toBeNull();
  });
});

describe("repository actions queue jobs", () => {
  test("every action queues its job kind with a payload that holds no secret", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    const kinds = {
      init: "repo.init",
      check: "repo.check",
      prune: "repo.prune",
      compact: "repo.compact",
      "break-lock": "repo.break_lock",
      list: "archive.list",
      backup: "backup.create",
    } as const;
    const secret = hub.deps.secretBox.decrypt(
      (await hub.deps.store.repositories.sealedPassphrase(repo.id)) as string,
    );
    for (const [action, kind] of Object.entries(kinds)) {
      const response = await hub.request("POST", `/api/repositories/${repo.id}/${action}`, {
        token: operator,
        body: action === "prune" ? { keep_daily: 7 } : undefined,
      });
      expect(response.status).toBe(202);
      const accepted = JobAccepted.parse(response.body);
      expect(accepted.status).toBe("queued");
      const job = Job.parse(
        (await hub.request("GET", `/api/jobs/${accepted.job_id}`, { token: viewer })).body,
      );
      expect(job.type).toBe(kind);
      expect(job.triggered_by).toMatch(/^user:\d+:operator-/);
      const stored = await hub.deps.store.jobs.byId(accepted.job_id);
      expect(stored?.payload.secrets).toEqual({ passphrase_location: "hub" });
      expect(JSON.stringify(stored?.payload)).not.toContain(secret);
    }
  });

  test("a second backup while one is queued is refused; other kinds may pile up", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    const first = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: operator,
    });
    expect(first.status).toBe(202);
    const second = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: operator,
    });
    expect(second.status).toBe(409);
    expect(errorOf(second.body).error).toBe(
      "a backup of this repository is already queued or running",
    );
    for (let i = 0; i < 2; i++) {
      expect(
        (await hub.request("POST", `/api/repositories/${repo.id}/check`, { token: operator }))
          .status,
      ).toBe(202);
    }
  });

  test("bad action bodies: prune without a keep rule, unknown fields; viewer may not queue", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    const noKeep = await hub.request("POST", `/api/repositories/${repo.id}/prune`, {
      token: operator,
      body: { dry_run: true },
    });
    expect(noKeep.status).toBe(400);
    const extra = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: operator,
      body: { force: true },
    });
    expect(extra.status).toBe(400);
    const checkExtra = await hub.request("POST", `/api/repositories/${repo.id}/check`, {
      token: operator,
      body: { repair: true },
    });
    expect(checkExtra.status).toBe(400);
    const byViewer = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: viewer,
    });
    expect(byViewer.status).toBe(403);
    expect(
      (await hub.request("POST", "/api/repositories/777777/backup", { token: operator })).status,
    ).toBe(404);
  });

  test("a prune by hand with keep_last needs an agent that knows it; archive_prefix is the plans'", async () => {
    const old = await addAgentMachine(hub, { capabilities: ["backup.create", "repo.prune"] });
    const repo = await createRepository(hub, admin, old.machineId);
    const refused = await hub.request("POST", `/api/repositories/${repo.id}/prune`, {
      token: operator,
      body: { keep_last: 3 },
    });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("too old for keep_last");
    // Without keep_last the old agent prunes as it always did.
    const plain = await hub.request("POST", `/api/repositories/${repo.id}/prune`, {
      token: operator,
      body: { keep_daily: 7 },
    });
    expect(plain.status).toBe(202);
    const current = await addAgentMachine(hub, {
      capabilities: [...JOB_KINDS, PLAN_PRUNE_CAPABILITY],
    });
    const other = await createRepository(hub, admin, current.machineId);
    const accepted = await hub.request("POST", `/api/repositories/${other.id}/prune`, {
      token: operator,
      body: { keep_last: 3 },
    });
    expect(accepted.status).toBe(202);
    const prefixed = await hub.request("POST", `/api/repositories/${other.id}/prune`, {
      token: operator,
      body: { keep_last: 3, archive_prefix: "plan1-" },
    });
    expect(prefixed.status).toBe(400);
  });

  test("jobs for a disabled machine are refused (409); an API token is named as trigger", async () => {
    const machine = await addAgentMachine(hub);
    const repo = await createRepository(hub, admin, machine.machineId);
    await hub.deps.store.machines.update(machine.machineId, { status: "disabled" }, hub.now());
    const refused = await hub.request("POST", `/api/repositories/${repo.id}/backup`, {
      token: operator,
    });
    expect(refused.status).toBe(409);
    await hub.deps.store.machines.update(machine.machineId, { status: "offline" }, hub.now());
    const apiToken = await hub.request("POST", "/api/tokens", {
      token: operator,
      body: { name: "ci" },
    });
    const { token, id } = apiToken.body as { token: string; id: number };
    const queued = await hub.request("POST", `/api/repositories/${repo.id}/backup`, { token });
    expect(queued.status).toBe(202);
    const job = Job.parse(
      (
        await hub.request("GET", `/api/jobs/${JobAccepted.parse(queued.body).job_id}`, {
          token: viewer,
        })
      ).body,
    );
    expect(job.triggered_by).toBe(`api_token:${id}`);
  });

  test("archives: empty until a list job reports them", async () => {
    const repo = await createRepository(hub, admin, agent.machineId);
    const response = await hub.request("GET", `/api/repositories/${repo.id}/archives`, {
      token: viewer,
    });
    expect(response.status).toBe(200);
    expect(Archives.parse(response.body)).toEqual({ archives: [], listed_at: null });
  });

  test("the audit trail names repository changes and queued jobs, never a passphrase", async () => {
    const audit = await hub.request("GET", "/api/audit?limit=1000", { token: admin });
    const actions = (audit.body as { action: string }[]).map((e) => e.action);
    expect(actions).toContain("repository.create");
    expect(actions).toContain("repository.update");
    expect(actions).toContain("repository.delete");
    expect(actions).toContain("job.queue");
    expect(audit.text).not.toContain("correct horse");
    expect(audit.text).not.toContain("a-brand-new-passphrase");
    expect(hub.logLines.join("\n")).not.toContain("correct horse");
  });
});

describe("passphrases at rest", () => {
  // About SQLite's own files; on PostgreSQL the store conformance suite and e2e cover it.
  test.skipIf(hub.storeKind !== "sqlite")(
    "the SQLite file and its WAL never hold the plaintext passphrase",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "borgctl-repos-"));
      try {
        const fileHub = createTestHub({ path: join(dir, "hub.sqlite") });
        const token = await fileHub.login();
        const machine = await addAgentMachine(fileHub);
        const passphrase = "plaintext-passphrase-must-not-be-on-disk";
        const created = await fileHub.request("POST", "/api/repositories", {
          token,
          body: {
            name: "disk",
            agent_machine_id: machine.machineId,
            location: "/srv/borg/disk",
            source_paths: ["/data"],
            passphrase,
          },
        });
        expect(created.status).toBe(201);
        const id = Repository.parse(created.body).id;
        await fileHub.request("PATCH", `/api/repositories/${id}`, {
          token,
          body: { passphrase: `${passphrase}-v2` },
        });
        const rows = fileHub.database.sqlite.query("SELECT * FROM repositories").all();
        expect(JSON.stringify(rows)).not.toContain(passphrase);
        const files = readdirSync(dir).filter((f) => f.startsWith("hub.sqlite"));
        expect(files).toContain("hub.sqlite-wal");
        for (const file of files) {
          const bytes = readFileSync(join(dir, file));
          expect(bytes.includes(Buffer.from(passphrase))).toBe(false);
        }
        // The sealed value is there and opens with the hub's key: it is stored, just not in clear.
        const sealed = await fileHub.deps.store.repositories.sealedPassphrase(id);
        expect(fileHub.deps.secretBox.decrypt(sealed as string)).toBe(`${passphrase}-v2`);
        fileHub.close();
        for (const file of readdirSync(dir)) {
          const bytes = readFileSync(join(dir, file));
          expect(bytes.includes(Buffer.from(passphrase))).toBe(false);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
