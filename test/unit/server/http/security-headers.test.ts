/**
 * Security headers on every kind of answer: one built by the context (c.json, c.body),
 * an error answered by onError, and a Response a route built itself (the UI's assets),
 * which the prepared headers do not reach and which gets them afterwards.
 */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { HubEnv } from "../../../../src/server/http/context.ts";
import {
  CONTENT_SECURITY_POLICY,
  securityHeaders,
} from "../../../../src/server/http/security-headers.ts";

function testApp() {
  const app = new Hono<HubEnv>();
  app.use("*", securityHeaders());
  app.get("/json", (c) => c.json({ ok: true }, 201, { "X-Own": "kept" }));
  app.get("/empty", (c) => c.body(null, 204));
  app.get("/raw", () => new Response("raw", { headers: { "Content-Type": "text/plain" } }));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.onError((_error, c) => c.json({ error: "internal" }, 500));
  return app;
}

describe("security headers", () => {
  test("on context answers, own Responses and errors alike, with the route's own headers kept", async () => {
    const app = testApp();
    for (const [path, status] of [
      ["/json", 201],
      ["/empty", 204],
      ["/raw", 200],
      ["/boom", 500],
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
});
