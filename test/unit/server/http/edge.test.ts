/**
 * The hub's edge middleware: security headers on every kind of answer (one the context
 * built, an error answered by onError, a Response a route built itself); the request
 * count for /metrics; and the access log, one line per request except an agent's
 * successful polls and heartbeats, which are counted into one summary line per window
 * (their errors still get a line each).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { HubEnv } from "../../../../src/server/http/context.ts";
import { hubEdge, routineAgentRequest } from "../../../../src/server/http/edge.ts";
import { CONTENT_SECURITY_POLICY } from "../../../../src/server/http/security-headers.ts";
import { AppError } from "../../../../src/shared/errors.ts";
import { errorHandler } from "../../../../src/shared/http/errors.ts";
import { createTestHub } from "../../../helpers/hub.ts";

const hub = createTestHub();
afterAll(() => hub.close());

function testApp() {
  const app = new Hono<HubEnv>();
  app.use("*", hubEdge(hub.deps, { windowMs: 20 }));
  app.get("/json", (c) => c.json({ ok: true }, 201, { "X-Own": "kept" }));
  app.get("/empty", (c) => c.body(null, 204));
  app.get("/raw", () => new Response("raw", { headers: { "Content-Type": "text/plain" } }));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.get("/api/agents/jobs/poll", (c) => {
    if (c.req.query("refuse")) throw new AppError("unauthorized", "no");
    return c.json({ jobs: [] });
  });
  app.post("/api/agents/heartbeat", (c) => c.json({ cancel_job_ids: [] }));
  app.onError(errorHandler(hub.deps.logger));
  return app;
}

const requestLines = () => hub.logLines.filter((l) => / \[http\] requests? /.test(l));

describe("the hub's edge", () => {
  test("security headers on context answers, own Responses and errors alike; the route's own headers kept", async () => {
    const app = testApp();
    for (const [path, status] of [
      ["/json", 201],
      ["/empty", 204],
      ["/raw", 200],
      ["/boom", 500],
      ["/nope", 404],
    ] as const) {
      const response = await app.request(path);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
    const json = await app.request("/json");
    expect(json.headers.get("x-own")).toBe("kept");
    expect(json.headers.get("content-type")).toContain("application/json");
    expect(await json.json()).toEqual({ ok: true });
    const raw = await app.request("/raw");
    expect(raw.headers.get("content-type")).toBe("text/plain");
    expect(await raw.text()).toBe("raw");
  });

  test("every request is counted for /metrics by its route and final status", async () => {
    const app = testApp();
    await app.request("/json");
    await app.request("/boom");
    const text = await hub.deps.metrics.render(hub.deps);
    expect(text).toMatch(
      /borgctl_http_requests_total\{[^}]*route="\/json"[^}]*status="201"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /borgctl_http_requests_total\{[^}]*route="\/boom"[^}]*status="500"[^}]*\} [1-9]/,
    );
  });

  test("one access log line per request; an agent's routine successes in one summary line per window", async () => {
    const app = testApp();
    hub.logLines.length = 0;
    for (let i = 0; i < 3; i++) await app.request("/api/agents/jobs/poll");
    await app.request("/api/agents/heartbeat", { method: "POST" });
    await app.request("/api/agents/jobs/poll?refuse=1");
    await app.request("/json");
    // The errors and the other route at once, each on its own line.
    expect(requestLines()).toEqual([
      expect.stringMatching(/request method=GET path=\/api\/agents\/jobs\/poll status=401 ms=\d+$/),
      expect.stringMatching(/request method=GET path=\/json status=201 ms=\d+$/),
    ]);
    while (requestLines().length < 4) await Bun.sleep(5);
    const summaries = requestLines().slice(2);
    expect(summaries).toContainEqual(
      expect.stringMatching(
        /requests method=GET path=\/api\/agents\/jobs\/poll status=200 count=3 ms_mean=[\d.]+ ms_max=\d+$/,
      ),
    );
    expect(summaries).toContainEqual(
      expect.stringMatching(
        /requests method=POST path=\/api\/agents\/heartbeat status=200 count=1 /,
      ),
    );
  });

  test("routine means exactly an agent's poll and heartbeat", () => {
    expect(routineAgentRequest("GET", "/api/agents/jobs/poll")).toBe(true);
    expect(routineAgentRequest("POST", "/api/agents/heartbeat")).toBe(true);
    expect(routineAgentRequest("POST", "/api/agents/jobs/poll")).toBe(false);
    expect(routineAgentRequest("POST", "/api/agents/jobs/7/claim")).toBe(false);
    expect(routineAgentRequest("POST", "/api/agents/register")).toBe(false);
    expect(routineAgentRequest("GET", "/api/jobs")).toBe(false);
  });
});
