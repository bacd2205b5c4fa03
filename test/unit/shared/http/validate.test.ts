/**
 * The shared validator: a schema failure is a 400 naming the field; a JSON body that is
 * not valid UTF-8 is a 400 before the schema or the route sees it (Request.json() alone
 * would hand them U+FFFD in place of the bad bytes).
 */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { z } from "zod";
import type { RequestIdEnv } from "../../../../src/shared/http/access-log.ts";
import { errorHandler } from "../../../../src/shared/http/errors.ts";
import { validate } from "../../../../src/shared/http/validate.ts";
import { createLogger } from "../../../../src/shared/log.ts";

function testApp() {
  const seen: unknown[] = [];
  const app = new Hono<RequestIdEnv>();
  app.post("/echo", validate("json", z.strictObject({ name: z.string().min(1) })), (c) => {
    seen.push(c.req.valid("json"));
    return c.json(c.req.valid("json"));
  });
  app.onError(errorHandler(createLogger({ level: "silent" })));
  const post = (bytes: Uint8Array<ArrayBuffer>, contentType = "application/json") =>
    app.request("/echo", { method: "POST", headers: { "content-type": contentType }, body: bytes });
  return { post, seen };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const withBytes = (before: string, bytes: number[], after: string) =>
  new Uint8Array([...utf8(before), ...bytes, ...utf8(after)]);

const NOT_UTF8 = { error: "request body is not valid UTF-8", code: "validation_failed" };

describe("validate", () => {
  test("a valid body reaches the route, multi-byte UTF-8 exactly", async () => {
    const { post, seen } = testApp();
    const response = await post(utf8(JSON.stringify({ name: "/étc/✓🗄" })));
    expect(response.status).toBe(200);
    expect(seen).toEqual([{ name: "/étc/✓🗄" }]);
  });

  test("a schema failure: 400 naming the field, every issue in details", async () => {
    const { post, seen } = testApp();
    const response = await post(utf8(JSON.stringify({ name: "", extra: 1 })));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; code: string; details: unknown[] };
    expect(body.code).toBe("validation_failed");
    expect(body.error).toStartWith("name: ");
    expect(body.details).toHaveLength(2);
    expect(seen).toEqual([]);
  });

  for (const [what, bytes] of [
    ["a bad two-byte sequence", withBytes('{"name":"/etc/', [0xc3, 0x28], '"}')],
    ["a lone continuation byte", withBytes('{"name":"a', [0x80], '"}')],
    ["a truncated sequence at the end", withBytes('{"name":"a"}', [0xe2, 0x82], "")],
  ] as const) {
    test(`invalid UTF-8 (${what}): 400, the route never runs`, async () => {
      const { post, seen } = testApp();
      const response = await post(bytes);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(NOT_UTF8);
      expect(seen).toEqual([]);
    });
  }

  test("every JSON media type is checked, with or without parameters", async () => {
    const { post, seen } = testApp();
    const bad = withBytes('{"name":"', [0xff], '"}');
    for (const type of [
      "application/json; charset=utf-8",
      "Application/JSON",
      "application/merge-patch+json",
    ]) {
      const response = await post(bad, type);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(NOT_UTF8);
    }
    expect(seen).toEqual([]);
  });

  test("a query: each raw query string is parsed once, what passed is frozen; failures every time", async () => {
    let parses = 0;
    const schema = z.object({
      wait: z
        .string()
        .transform((v) => {
          parses++;
          return Number(v);
        })
        .pipe(z.number().int().min(0).max(30)),
      tag: z.array(z.string()).optional(),
    });
    const app = new Hono<RequestIdEnv>();
    app.get("/q", validate("query", schema), (c) => {
      const query = c.req.valid("query");
      return c.json({ query, frozen: Object.isFrozen(query) });
    });
    app.onError(errorHandler(createLogger({ level: "silent" })));
    const get = async (query: string) => {
      const response = await app.request(`/q?${query}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await get("wait=25")).toEqual({
      status: 200,
      body: { query: { wait: 25 }, frozen: true },
    });
    expect(await get("wait=25")).toEqual({
      status: 200,
      body: { query: { wait: 25 }, frozen: true },
    });
    expect(parses).toBe(1);
    expect((await get("wait=5&tag=a&tag=b")).body.query).toEqual({ wait: 5, tag: ["a", "b"] });
    expect(parses).toBe(2);
    expect((await get("wait=99")).status).toBe(400);
    expect((await get("wait=99")).status).toBe(400);
    expect(parses).toBe(4);
    // Many distinct queries: the memo starts over, every answer stays right.
    for (let i = 0; i < 200; i++)
      expect((await get(`wait=${i % 31}&tag=${i}&tag=x`)).status).toBe(200);
    expect((await get("wait=25")).body.query).toEqual({ wait: 25 });
    // Longer than what is kept: parsed every time, right every time.
    const long = `wait=7&tag=${"x".repeat(300)}&tag=y`;
    const before = parses;
    for (let i = 0; i < 2; i++)
      expect((await get(long)).body.query).toEqual({ wait: 7, tag: ["x".repeat(300), "y"] });
    expect(parses - before).toBe(2);
  });
});
