/**
 * The embedded web UI's routes: hashed assets with an immutable cache, index.html for
 * every other non-API GET, gzip when asked, security headers on everything, and the API's
 * own JSON 404 unchanged. uiRoutes is exercised with a known asset list; the real app
 * (whatever dist/ui-assets held when it was transpiled) for the headers and fallback.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { HubEnv } from "../../../src/server/http/context.ts";
import { errorHandler, notFound } from "../../../src/server/http/errors.ts";
import { uiRoutes } from "../../../src/server/http/routes/ui.ts";
import { CONTENT_SECURITY_POLICY } from "../../../src/server/http/security-headers.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { createTestHub } from "../../helpers/hub.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const INDEX = '<!doctype html><script type="module" src="/assets/main-abc123.js"></script>';

function uiApp() {
  const app = new Hono<HubEnv>();
  app.get("/api/health", (c) => c.json({ status: "ok" }));
  uiRoutes(app, [
    { path: "/index.html", contentType: "text/html; charset=utf-8", body: b64(INDEX) },
    { path: "/assets/main-abc123.js", contentType: "text/javascript", body: b64("let a=1;") },
  ]);
  app.notFound(notFound);
  app.onError(errorHandler(createLogger({ level: "error" })));
  return app;
}

describe("uiRoutes", () => {
  const app = uiApp();

  test("a hashed asset: its bytes, its type, cached for a year, immutable", async () => {
    const res = await app.request("/assets/main-abc123.js");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("let a=1;");
    expect(res.headers.get("content-type")).toBe("text/javascript");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  test("gzip when the browser accepts it", async () => {
    const res = await app.request("/assets/main-abc123.js", {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())))).toBe(
      "let a=1;",
    );
  });

  test("any other page path answers index.html, revalidated each time", async () => {
    for (const path of ["/", "/machines", "/jobs/12", "/some/deep/link"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(INDEX);
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
  });

  test("an unknown asset or API path is a JSON 404, never index.html", async () => {
    for (const path of ["/assets/main-old.js", "/api/nope", "/api"]) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: "not_found" });
    }
    expect((await app.request("/api/health")).status).toBe(200);
  });
});

describe("the hub app", () => {
  const hub = createTestHub();
  afterAll(() => hub.close());

  test("security headers on pages and API answers alike", async () => {
    for (const path of ["/", "/api/health", "/api/nope"]) {
      const { headers } = await hub.request("GET", path);
      expect(headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(headers.get("x-frame-options")).toBe("DENY");
      expect(headers.get("referrer-policy")).toBe("no-referrer");
      expect(headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
  });

  test("pages answer HTML (the UI, or a note that it was not built); the API keeps JSON", async () => {
    const page = await hub.request("GET", "/dashboard-deep-link");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const api = await hub.request("GET", "/api/nope");
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ code: "not_found" });
    const post = await hub.request("POST", "/machines");
    expect(post.status).toBe(404);
  });
});
