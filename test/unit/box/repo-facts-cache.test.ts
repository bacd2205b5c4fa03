import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RepoFactsCache } from "../../../src/box/repo-facts-cache.ts";
import type { RepoFacts } from "../../../src/box/repos.ts";
import { AppError } from "../../../src/shared/errors.ts";

let root: string;
let clock: number;
const now = () => clock;
const INTERVAL = 30_000;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "borgctl-cache-"));
  clock = 1_000_000;
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function makeRepo(name: string, bytes: number): Promise<void> {
  await fs.mkdir(path.join(root, name, "data", "0"), { recursive: true });
  await fs.writeFile(path.join(root, name, "data", "0", "1"), Buffer.alloc(bytes));
}

async function grow(name: string, bytes: number): Promise<void> {
  await fs.writeFile(path.join(root, name, "data", "0", "2"), Buffer.alloc(bytes));
}

const sizes = (facts: RepoFacts[]) => Object.fromEntries(facts.map((f) => [f.name, f.size_bytes]));

/** Polls `read` until `done` holds; the bound is generous and only stops a hang. */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await Bun.sleep(5);
  }
}

describe("RepoFactsCache.list", () => {
  test("returns new dirs and drops deleted ones", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    expect(sizes(await cache.list())).toEqual({ a: 10 });

    await makeRepo("b", 20);
    expect(sizes(await cache.list())).toEqual({ a: 10, b: 20 });

    await fs.rm(path.join(root, "a"), { recursive: true });
    expect(sizes(await cache.list())).toEqual({ b: 20 });
  });

  test("serves cached facts while they are fresh", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    await cache.list();
    await grow("a", 5);
    clock += INTERVAL - 1;
    expect(sizes(await cache.list())).toEqual({ a: 10 });
  });

  test("serves a stale entry at once and refreshes it in the background", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    await cache.list();
    await grow("a", 5);
    clock += INTERVAL;

    expect(sizes(await cache.list())).toEqual({ a: 10 });
    const later = await eventually(
      () => cache.list(),
      (facts) => sizes(facts).a === 15,
    );
    expect(sizes(later)).toEqual({ a: 15 });
  });

  test("refreshNow picks up size changes and vanished dirs", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    await makeRepo("b", 10);
    await cache.list();
    await grow("a", 90);
    await fs.rm(path.join(root, "b"), { recursive: true });

    await cache.refreshNow();
    // Nothing is stale by the clock, so this list answers from the cache only.
    expect(sizes(await cache.list())).toEqual({ a: 100 });
  });

  test("skips symlinked dirs and invalid names", async () => {
    const cache = new RepoFactsCache({ root, now });
    await makeRepo("real", 1);
    await makeRepo("Bad_Name", 1);
    await fs.symlink(path.join(root, "real"), path.join(root, "alias"));
    expect((await cache.list()).map((f) => f.name)).toEqual(["real"]);
  });

  test("lists every repo with concurrency 1", async () => {
    const cache = new RepoFactsCache({ root, now, concurrency: 1 });
    const names = Array.from({ length: 40 }, (_, i) => `r${String(i).padStart(2, "0")}`);
    for (const name of names) await makeRepo(name, 3);
    const facts = await cache.list();
    expect(facts.map((f) => f.name)).toEqual(names);
    expect(facts.every((f) => f.size_bytes === 3)).toBe(true);
  });

  test("a missing root lists nothing", async () => {
    const cache = new RepoFactsCache({ root: path.join(root, "missing"), now });
    expect(await cache.list()).toEqual([]);
  });
});

describe("RepoFactsCache.get and invalidate", () => {
  test("get always reads fresh and updates the cache", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    await cache.list();
    await grow("a", 7);

    expect((await cache.get("a")).size_bytes).toBe(17);
    expect(sizes(await cache.list())).toEqual({ a: 17 });
  });

  test("get of a missing repo throws not_found", async () => {
    const cache = new RepoFactsCache({ root, now });
    await makeRepo("a", 1);
    await cache.list();
    await fs.rm(path.join(root, "a"), { recursive: true });
    const err = await cache.get("a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("not_found");
  });

  test("invalidate makes the next list read the repo again", async () => {
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: INTERVAL });
    await makeRepo("a", 10);
    await cache.list();
    await grow("a", 1);
    expect(sizes(await cache.list())).toEqual({ a: 10 });

    cache.invalidate("a");
    expect(sizes(await cache.list())).toEqual({ a: 11 });
  });
});

describe("RepoFactsCache.start", () => {
  test("the timer refreshes entries without anyone listing, until stopped", async () => {
    // The injected clock never moves, so list() itself never refreshes: only the timer can.
    const cache = new RepoFactsCache({ root, now, refreshIntervalMs: 10 });
    await makeRepo("a", 10);
    await cache.list();
    await grow("a", 2);

    cache.start();
    let seen: RepoFacts[];
    try {
      seen = await eventually(
        () => cache.list(),
        (facts) => sizes(facts).a === 12,
      );
    } finally {
      cache.stop();
    }
    expect(sizes(seen)).toEqual({ a: 12 });

    await cache.refreshNow(); // let a pass that was already running finish
    await grow("a", 5);
    await Bun.sleep(50);
    expect(sizes(await cache.list())).toEqual({ a: 12 });
  });
});
