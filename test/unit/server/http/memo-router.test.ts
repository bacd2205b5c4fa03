/**
 * The hub's router: the same answers as Hono's own (parameters of each path its own), the
 * inner router asked once per method and path, never more than MAX_REMEMBERED answers
 * kept, and a route added later is seen.
 */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import { MAX_REMEMBERED, MemoRouter } from "../../../../src/server/http/memo-router.ts";

/** A TrieRouter that counts the matches it was asked for. */
class Counting<T> implements Router<T> {
  readonly name = "Counting";
  matches = 0;
  private readonly inner = new TrieRouter<T>();
  add(method: string, path: string, handler: T): void {
    this.inner.add(method, path, handler);
  }
  match(method: string, path: string): Result<T> {
    this.matches++;
    return this.inner.match(method, path);
  }
}

function testApp() {
  const inner = new Counting<never>();
  const app = new Hono({ router: new MemoRouter(inner as Router<never>) });
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("x-seen", "1");
  });
  app.get("/jobs/poll", (c) => c.text("poll"));
  app.get("/jobs/:id", (c) => c.text(`job ${c.req.param("id")}`));
  app.get("*", (c) => c.text(`fallback ${c.req.path}`));
  return { app, inner };
}

describe("MemoRouter", () => {
  test("answers as the router it wraps, middleware and parameters included", async () => {
    const { app } = testApp();
    for (let i = 0; i < 3; i++) {
      const poll = await app.request("/jobs/poll");
      expect(await poll.text()).toBe("poll");
      expect(poll.headers.get("x-seen")).toBe("1");
      expect(await (await app.request(`/jobs/${i}`)).text()).toBe(`job ${i}`);
      expect(await (await app.request("/elsewhere")).text()).toBe("fallback /elsewhere");
    }
  });

  test("each method and path is matched once", async () => {
    const { app, inner } = testApp();
    for (let i = 0; i < 5; i++) await app.request("/jobs/poll");
    expect(inner.matches).toBe(1);
    for (let i = 0; i < 5; i++) await app.request("/jobs/42");
    expect(inner.matches).toBe(2);
    expect(await (await app.request("/jobs/43")).text()).toBe("job 43");
    expect(await (await app.request("/jobs/42")).text()).toBe("job 42");
    await app.request("/jobs/42", { method: "POST" });
    expect(inner.matches).toBe(4);
  });

  test("keeps at most MAX_REMEMBERED answers, then starts over", async () => {
    const { app, inner } = testApp();
    for (let i = 0; i <= MAX_REMEMBERED; i++) await app.request(`/page-${i}`);
    const asked = inner.matches;
    await app.request(`/page-${MAX_REMEMBERED}`); // kept after the reset
    expect(inner.matches).toBe(asked);
    await app.request("/page-0"); // forgotten by the reset
    expect(inner.matches).toBe(asked + 1);
  });

  test("a route added after a match is seen", async () => {
    const inner = new Counting<never>();
    const router = new MemoRouter(inner as Router<never>);
    router.add("GET", "*", "fallback" as never);
    expect(router.match("GET", "/late")[0]).toHaveLength(1);
    router.add("GET", "/late", "late" as never);
    expect(router.match("GET", "/late")[0]).toHaveLength(2);
  });
});
