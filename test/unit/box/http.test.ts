/**
 * The box's HTTP layer alone (services stubbed): auth, throttling of failures, the one
 * error shape, and that an unexpected error answers `internal` without its message.
 */
import { describe, expect, test } from "bun:test";
import { type BoxHttpDeps, createBoxApp } from "../../../src/box/http.ts";
import { JobRegistry } from "../../../src/box/jobs.ts";
import type { Maintenance } from "../../../src/box/maintenance.ts";
import type { RepoService } from "../../../src/box/repo-service.ts";
import { AppError } from "../../../src/shared/errors.ts";
import { FailureThrottle } from "../../../src/shared/failure-throttle.ts";
import { createLogger } from "../../../src/shared/log.ts";

const TOKEN = "unit-test-token-0123456789";

function app(overrides: Partial<BoxHttpDeps> = {}) {
  const sleeps: number[] = [];
  const lines: string[] = [];
  const deps: BoxHttpDeps = {
    token: TOKEN,
    logger: createLogger({ write: (line) => lines.push(line) }),
    repos: {
      list: async () => [],
      get: async (name: string) => {
        throw new AppError("not_found", `no repo "${name}"`);
      },
    } as unknown as RepoService,
    jobs: new JobRegistry(),
    maintenance: {} as Maintenance,
    throttle: new FailureThrottle({ freeFailures: 2, baseDelayMs: 100 }),
    info: async () => {
      throw new Error("disk exploded at /secret/path");
    },
    systemStats: async () => {
      throw new Error("unused");
    },
    sessions: async () => [],
    metrics: async () => "",
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { app: createBoxApp(deps), sleeps, lines };
}

const get = (a: ReturnType<typeof app>["app"], path: string, token?: string, ip = "192.0.2.1") =>
  a.request(
    `/api/v1${path}`,
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
    { ip },
  );

describe("box http", () => {
  test("failures from one address are answered later and later; others are not", async () => {
    const { app: a, sleeps } = app();
    for (let i = 0; i < 5; i++) expect((await get(a, "/repos", "wrong")).status).toBe(401);
    expect(sleeps).toEqual([100, 200, 400]);
    expect((await get(a, "/repos", "wrong", "192.0.2.2")).status).toBe(401);
    expect(sleeps).toHaveLength(3);
    // Success resets the address.
    expect((await get(a, "/repos", TOKEN)).status).toBe(200);
    expect((await get(a, "/repos", "wrong")).status).toBe(401);
    expect(sleeps).toHaveLength(3);
  });

  test("errors use the one shape; unexpected ones hide their message", async () => {
    const { app: a, lines } = app();
    const notFound = await get(a, "/repos/r1", TOKEN);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: 'no repo "r1"', code: "not_found" });
    const internal = await get(a, "/info", TOKEN);
    expect(internal.status).toBe(500);
    const body = (await internal.json()) as { error: string; code: string; request_id: string };
    expect(body).toMatchObject({ error: "internal error", code: "internal" });
    expect(JSON.stringify(body)).not.toContain("/secret/path");
    // The cause is logged, under the same request id.
    expect(lines.some((l) => l.includes(body.request_id) && l.includes("disk exploded"))).toBe(
      true,
    );
    expect((await get(a, "/nope", TOKEN)).status).toBe(404);
  });

  test("every request is logged once with method, path, status and time; never the token", async () => {
    const { app: a, lines } = app();
    await get(a, "/repos", TOKEN);
    const requestLines = lines.filter((l) => l.includes(" request "));
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatch(/method=GET path=\/api\/v1\/repos status=200 ms=\d+/);
    expect(lines.join("\n")).not.toContain(TOKEN);
  });
});
