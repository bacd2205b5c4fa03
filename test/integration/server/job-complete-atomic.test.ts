/**
 * A job's end and what its kind records elsewhere land together (services/job-runtime.ts
 * completeJob): when recording an archive list fails, the job is not completed either, and
 * the agent's retried report lands both. Found on PostgreSQL, where a reader could see the
 * job completed before its list was stored. The failure is a trigger the test adds to the
 * real database (SQLite or PostgreSQL, BORGCTL_TEST_STORE).
 */
import { afterAll, expect, test } from "bun:test";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
afterAll(() => hub.close());

const REFUSE_LIST = {
  sqlite: [
    `CREATE TRIGGER refuse_list BEFORE UPDATE OF archives_listed_at ON repositories
     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
  ],
  postgres: [
    `CREATE FUNCTION refuse_list() RETURNS trigger LANGUAGE plpgsql AS
     $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
    `CREATE TRIGGER refuse_list BEFORE UPDATE OF archives_listed_at ON repositories
     FOR EACH ROW EXECUTE FUNCTION refuse_list()`,
  ],
};
const ALLOW_LIST = {
  sqlite: ["DROP TRIGGER refuse_list"],
  postgres: ["DROP TRIGGER refuse_list ON repositories", "DROP FUNCTION refuse_list()"],
};

test("a list whose archives cannot be stored does not complete; the retry lands both", async () => {
  const admin = await hub.login();
  const agent = await addAgentMachine(hub);
  const repository = await createRepository(hub, admin, agent.machineId);
  const queued = await hub.request("POST", `/api/repositories/${repository.id}/list`, {
    token: admin,
  });
  const jobId = (queued.body as { job_id: number }).job_id;
  const as = { agentToken: agent.token };
  expect((await hub.request("POST", `/api/agents/jobs/${jobId}/claim`, as)).status).toBe(200);
  expect(
    (await hub.request("POST", `/api/agents/jobs/${jobId}/start`, { ...as, body: {} })).status,
  ).toBe(200);
  const complete = {
    ...as,
    body: { result: { return_code: 0, archives: [{ id: "a".repeat(64), name: "one" }] } },
  };

  for (const statement of REFUSE_LIST[hub.storeKind]) await hub.sql(statement);
  const refused = await hub.request("POST", `/api/agents/jobs/${jobId}/complete`, complete);
  expect(refused.status).toBe(500);
  const during = await hub.request("GET", `/api/jobs/${jobId}`, { token: admin });
  expect((during.body as { status: string }).status).toBe("running");

  for (const statement of ALLOW_LIST[hub.storeKind]) await hub.sql(statement);
  const retried = await hub.request("POST", `/api/agents/jobs/${jobId}/complete`, complete);
  expect(retried.status).toBe(200);
  const after = await hub.request("GET", `/api/jobs/${jobId}`, { token: admin });
  expect((after.body as { status: string }).status).toBe("completed");
  const listed = await hub.request("GET", `/api/repositories/${repository.id}/archives`, {
    token: admin,
  });
  expect((listed.body as { archives: { name: string }[] }).archives.map((a) => a.name)).toEqual([
    "one",
  ]);
});
