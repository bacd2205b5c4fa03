/**
 * JSON bodies that are not valid UTF-8 are refused (400 validation_failed) on the user
 * API and the agent runtime API alike, and nothing is changed; Request.json() alone would
 * store U+FFFD in place of the bad bytes. Raw bytes over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { createTestHub } from "../../helpers/hub.ts";
import { addAgentMachine } from "../../helpers/hub-fixtures.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;

beforeAll(async () => {
  admin = await hub.login();
  server = hub.serve();
});
afterAll(() => {
  server.stop();
  hub.close();
});

/** `{"prefix…<bytes>…suffix"}` as raw bytes: JSON text around bytes a string can't hold. */
const jsonBytes = (before: string, bytes: number[], after: string) =>
  new Uint8Array([
    ...new TextEncoder().encode(before),
    ...bytes,
    ...new TextEncoder().encode(after),
  ]);

// "\xc3\x28": a two-byte lead followed by "(" — the "/etc/\xc3\x28".
const INVALID = [0xc3, 0x28];

const post = (path: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

async function expectNotUtf8(response: Response) {
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({
    error: "request body is not valid UTF-8",
    code: "validation_failed",
  });
}

const tokenNames = async () =>
  ((await hub.request("GET", "/api/tokens", { token: admin })).body as { name: string }[]).map(
    (t) => t.name,
  );

describe("invalid UTF-8 in JSON bodies", () => {
  test("user API: refused, nothing created", async () => {
    const response = await post(
      "/api/tokens",
      { authorization: `Bearer ${admin}` },
      jsonBytes('{"name":"/etc/', INVALID, '"}'),
    );
    await expectNotUtf8(response);
    expect(await tokenNames()).toEqual([]);
  });

  test("a lone continuation byte and a truncated sequence at the end are refused too", async () => {
    await expectNotUtf8(
      await post(
        "/api/tokens",
        { authorization: `Bearer ${admin}` },
        jsonBytes('{"name":"a', [0x80], '"}'),
      ),
    );
    await expectNotUtf8(
      await post(
        "/api/tokens",
        { authorization: `Bearer ${admin}` },
        new Uint8Array([...new TextEncoder().encode('{"name":"a"}'), 0xe2, 0x82]),
      ),
    );
    expect(await tokenNames()).toEqual([]);
  });

  test("agent runtime API: refused, the machine's record unchanged", async () => {
    const machine = await addAgentMachine(hub);
    const before = await hub.deps.store.machines.byId(machine.machineId);
    const response = await post(
      "/api/agents/heartbeat",
      { "x-borg-agent-authorization": `Bearer ${machine.token}` },
      jsonBytes(
        `{"agent_id":"${machine.agentId}","protocol_version":${PROTOCOL_VERSION},"running_job_ids":[],"last_error":"/etc/`,
        INVALID,
        '"}',
      ),
    );
    await expectNotUtf8(response);
    expect(await hub.deps.store.machines.byId(machine.machineId)).toEqual(before);
  });

  test("valid multi-byte UTF-8 is kept exactly", async () => {
    const name = "/étc/ünïcødé ✓ 🗄";
    const response = await post(
      "/api/tokens",
      { authorization: `Bearer ${admin}` },
      new TextEncoder().encode(JSON.stringify({ name })),
    );
    expect(response.status).toBe(201);
    expect(await tokenNames()).toEqual([name]);
  });
});
