import { afterAll, describe, expect, test } from "bun:test";
import {
  AgentRejected,
  assertTransportAllowed,
  HubClient,
  HubRefused,
  HubUnavailable,
} from "../../../src/agent/client.ts";

// A tiny stand-in hub on 127.0.0.1 that answers what each test needs.
let answer: () => Response = () => new Response("{}");
const seen: { path: string; auth: string | null; protocol: string | null }[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (request) => {
    seen.push({
      path: new URL(request.url).pathname,
      auth: request.headers.get("x-borg-agent-authorization"),
      protocol: request.headers.get("x-borg-agent-protocol"),
    });
    return answer();
  },
});
afterAll(() => server.stop(true));
const client = new HubClient({
  serverUrl: `http://127.0.0.1:${server.port}`,
  token: "borgctl_agent_x",
});

describe("assertTransportAllowed", () => {
  test("https anywhere, http only to this machine unless insecure", () => {
    expect(() => assertTransportAllowed("https://hub.example.com", false)).not.toThrow();
    expect(() => assertTransportAllowed("http://127.0.0.1:8080", false)).not.toThrow();
    expect(() => assertTransportAllowed("http://localhost:8080", false)).not.toThrow();
    expect(() => assertTransportAllowed("http://[::1]:8080", false)).not.toThrow();
    expect(() => assertTransportAllowed("http://hub.example.com", false)).toThrow(
      /refusing plain HTTP/,
    );
    expect(() => assertTransportAllowed("http://hub.example.com", true)).not.toThrow();
    expect(() => assertTransportAllowed("ftp://hub", true)).toThrow(/https/);
    expect(() => assertTransportAllowed("not a url", true)).toThrow(/not a URL/);
  });
});

describe("HubClient", () => {
  test("sends the credential and protocol headers; decodes with the protocol schemas", async () => {
    answer = () =>
      Response.json({
        jobs: [
          {
            id: 3,
            job_kind: "backup.create",
            repository_id: 1,
            created_at: new Date(0).toISOString(),
          },
        ],
      });
    const polled = await client.poll(0);
    expect(polled.jobs[0]?.id).toBe(3);
    expect(seen.at(-1)).toEqual({
      path: "/api/agents/jobs/poll",
      auth: "Bearer borgctl_agent_x",
      protocol: "1",
    });
  });

  test("sorts failures: 401 stops, 5xx and bad answers retry, other 4xx are refusals", async () => {
    answer = () => Response.json({ error: "revoked", code: "unauthorized" }, { status: 401 });
    await expect(
      client.heartbeat({ agent_id: "a", protocol_version: 1, running_job_ids: [] }),
    ).rejects.toBeInstanceOf(AgentRejected);
    answer = () => new Response("oops", { status: 503 });
    await expect(client.jobStatus(1)).rejects.toBeInstanceOf(HubUnavailable);
    answer = () => Response.json({ unexpected: true });
    await expect(client.jobStatus(1)).rejects.toBeInstanceOf(HubUnavailable);
    answer = () =>
      Response.json(
        { error: "job 1 is completed", code: "conflict", details: { status: "completed" } },
        { status: 409 },
      );
    const refused = await client.complete(1, { result: { return_code: 0 } }).catch((e) => e);
    expect(refused).toBeInstanceOf(HubRefused);
    expect(refused).toMatchObject({ status: 409, code: "conflict", message: "job 1 is completed" });
  });

  test("a 401 to register (no agent credential yet) is the hub's refusal, with its reason", async () => {
    const enrolling = new HubClient({ serverUrl: `http://127.0.0.1:${server.port}` });
    const reason =
      "enrollment token is unknown, expired, revoked or already used; create a new one";
    answer = () => Response.json({ error: reason, code: "unauthorized" }, { status: 401 });
    const refused = await enrolling
      .register({
        enrollment_token: "borgctl_enroll_x",
        protocol_version: 1,
        hostname: "h",
        os: "linux",
        arch: "x64",
        agent_version: "1",
        borg_versions: [],
        capabilities: [],
      })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(HubRefused);
    expect(refused).toMatchObject({ status: 401, code: "unauthorized", message: reason });
  });

  test("an unreachable hub is HubUnavailable, not a crash", async () => {
    const nowhere = new HubClient({
      serverUrl: "http://127.0.0.1:9",
      token: "borgctl_agent_x",
      timeoutMs: 2000,
    });
    await expect(nowhere.jobStatus(1)).rejects.toBeInstanceOf(HubUnavailable);
  });
});
