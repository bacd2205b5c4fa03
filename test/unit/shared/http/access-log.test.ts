/** The shared access log: one line per answered request, and a fresh request id for each. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { accessLog, type RequestIdEnv } from "../../../../src/shared/http/access-log.ts";
import { createLogger } from "../../../../src/shared/log.ts";

function testApp() {
  const lines: string[] = [];
  const app = new Hono<RequestIdEnv>();
  app.use("*", accessLog(createLogger({ write: (line) => lines.push(line) }).child("http")));
  app.get("/id", (c) => c.text(c.get("requestId")));
  return { app, lines };
}

describe("access log", () => {
  test("one line per request: method, path, status, milliseconds", async () => {
    const { app, lines } = testApp();
    expect((await app.request("/id")).status).toBe(200);
    expect((await app.request("/missing")).status).toBe(404);
    const requestLines = lines.filter((l) => l.includes(" request "));
    expect(requestLines).toHaveLength(2);
    expect(requestLines[0]).toMatch(/\[http\] request method=GET path=\/id status=200 ms=\d+$/);
    expect(requestLines[1]).toMatch(/path=\/missing status=404 ms=\d+$/);
  });

  test("every request gets its own id", async () => {
    const { app } = testApp();
    const first = await (await app.request("/id")).text();
    const second = await (await app.request("/id")).text();
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
  });
});
