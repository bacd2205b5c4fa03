/** The shared body limit: over it is a 413 in the one error shape, saying the limit. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { RequestIdEnv } from "../../../../src/shared/http/access-log.ts";
import { limitBody } from "../../../../src/shared/http/body-limit.ts";
import { errorHandler } from "../../../../src/shared/http/errors.ts";
import { createLogger } from "../../../../src/shared/log.ts";

function testApp() {
  const app = new Hono<RequestIdEnv>();
  app.use("*", limitBody(64));
  app.post("/", async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
  app.onError(errorHandler(createLogger({ level: "silent" })));
  return app;
}

describe("body limit", () => {
  test("at the limit: read", async () => {
    const response = await testApp().request("/", { method: "POST", body: "x".repeat(64) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("64");
  });

  test("over the limit: 413 payload_too_large", async () => {
    const response = await testApp().request("/", { method: "POST", body: "x".repeat(65) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: "request body over 64 bytes",
      code: "payload_too_large",
    });
  });
});
