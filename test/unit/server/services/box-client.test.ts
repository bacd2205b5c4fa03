/** The hub's box client: URLs it keeps, and failures that say what the box answered. */
import { describe, expect, test } from "bun:test";
import {
  BoxCallError,
  boxClient,
  normalizeBoxUrl,
} from "../../../../src/server/services/box-client.ts";
import { boxRepoNameFor } from "../../../../src/server/services/box-repositories.ts";

describe("normalizeBoxUrl", () => {
  test("http(s) only, without credentials, query, trailing slash or /api/v1", () => {
    expect(normalizeBoxUrl("http://box.lan:9999")).toBe("http://box.lan:9999");
    expect(normalizeBoxUrl("http://box.lan:9999/")).toBe("http://box.lan:9999");
    expect(normalizeBoxUrl("https://box.lan/borg/api/v1/")).toBe("https://box.lan/borg");
    expect(normalizeBoxUrl(" http://[::1]:9999 ")).toBe("http://[::1]:9999");
    for (const bad of [
      "ftp://box",
      "box.lan:9999",
      "http://u:p@box",
      "http://box/?x=1",
      "file:///etc",
      "",
    ]) {
      expect(normalizeBoxUrl(bad)).toBeUndefined();
    }
  });
});

describe("boxRepoNameFor", () => {
  test("lowercase, runs of other characters become one '-', at most 63", () => {
    expect(boxRepoNameFor("Laptop Home")).toBe("laptop-home");
    expect(boxRepoNameFor("  --web_01!! ")).toBe("web-01");
    expect(boxRepoNameFor("x".repeat(100))).toHaveLength(63);
    expect(boxRepoNameFor("!!!")).toBeUndefined();
    expect(boxRepoNameFor("ünïcode")).toBe("n-code");
  });
});

describe("boxClient", () => {
  test("a refusal carries the box's own message and status, never the token", async () => {
    const token = "secret-token-0123456789";
    const client = boxClient("http://box.test", token, {
      fetch: (async () =>
        new Response(
          JSON.stringify({ error: "missing or wrong bearer token", code: "unauthorized" }),
          {
            status: 401,
          },
        )) as unknown as typeof fetch,
    });
    const error = await client.info().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BoxCallError);
    expect((error as BoxCallError).status).toBe(401);
    expect((error as Error).message).toBe(
      "the box refused the token (missing or wrong bearer token)",
    );
    expect((error as Error).message).not.toContain(token);
  });

  test("an answer that is not a box's is refused, not trusted", async () => {
    const client = boxClient("http://box.test", "t", {
      fetch: (async () =>
        new Response(JSON.stringify({ hello: "world" }))) as unknown as typeof fetch,
    });
    await expect(client.info()).rejects.toThrow("not a box's answer");
  });
});
