/**
 * The shared onError and notFound: AppError as its status and body, Hono's own 4xx in the
 * same shape, and anything else as `internal` with a request id, its cause only in the log.
 */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../../../../src/shared/errors.ts";
import { accessLog, type RequestIdEnv } from "../../../../src/shared/http/access-log.ts";
import { errorHandler, notFound } from "../../../../src/shared/http/errors.ts";
import { createLogger } from "../../../../src/shared/log.ts";

const SECRET = "hunter2-passphrase";

function testApp() {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  logger.redactor.add(SECRET);
  const app = new Hono<RequestIdEnv>();
  app.use("/logged/*", accessLog(logger));
  app.get("/logged/app-error", () => {
    throw new AppError("conflict", "already running", { job: "j_1" });
  });
  app.get("/logged/too-big", () => {
    throw new HTTPException(413, { message: "too big" });
  });
  app.get("/logged/malformed", () => {
    throw new HTTPException(400, { message: "Malformed JSON in request body" });
  });
  app.get("/logged/boom", () => {
    throw new Error(`cannot open /secret/path with ${SECRET}`);
  });
  app.get("/unlogged/boom", () => {
    throw new Error("no middleware ran");
  });
  app.notFound(notFound);
  app.onError(errorHandler(logger));
  return { app, lines };
}

describe("the one error shape", () => {
  test("AppError: its status and body, details included", async () => {
    const { app } = testApp();
    const response = await app.request("/logged/app-error");
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error: "already running",
      code: "conflict",
      details: { job: "j_1" },
    });
  });

  test("Hono's own 4xx: the same shape, 413 as payload_too_large", async () => {
    const { app } = testApp();
    const tooBig = await app.request("/logged/too-big");
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ error: "too big", code: "payload_too_large" });
    const malformed = await app.request("/logged/malformed");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: "Malformed JSON in request body",
      code: "validation_failed",
    });
  });

  test("unknown path: 404 not_found", async () => {
    const { app } = testApp();
    const response = await app.request("/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "no such endpoint", code: "not_found" });
  });

  test("unexpected error: internal with the request id; the cause only in the log, redacted", async () => {
    const { app, lines } = testApp();
    const response = await app.request("/logged/boom");
    expect(response.status).toBe(500);
    const body = (await response.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["code", "error", "request_id"]);
    expect(body).toMatchObject({ error: "internal error", code: "internal" });
    const failure = lines.find((l) => l.includes("request failed"));
    expect(failure).toContain(`request_id=${body.request_id}`);
    expect(failure).toContain("/secret/path");
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  test("an error where the access log did not run still gets a request id", async () => {
    const { app, lines } = testApp();
    const body = (await (await app.request("/unlogged/boom")).json()) as Record<string, string>;
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => l.includes(`request_id=${body.request_id}`))).toBe(true);
  });
});
