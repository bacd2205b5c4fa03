/**
 * A repo whose facts can't be read (an I/O error, not "gone") is said, not swallowed:
 * the cache logs it at warn with the repo's name and keeps serving its last good facts.
 * The error is a real one: a directory chain deeper than PATH_MAX, so the walk's lstat
 * fails with ENAMETOOLONG even for root.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RepoFactsCache } from "../../../src/box/repo-facts-cache.ts";
import { createLogger } from "../../../src/shared/log.ts";

let base: string;
let root: string;
let lines: string[];
const logger = () => createLogger({ level: "debug", write: (line) => lines.push(line) });

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "borgctl-cache-errors-"));
  root = path.join(base, "root");
  await fs.mkdir(path.join(root, "laptop", "data"), { recursive: true });
  await fs.writeFile(path.join(root, "laptop", "data", "1"), Buffer.alloc(10));
  lines = [];
});
afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/**
 * Puts a chain of directories longer than PATH_MAX under the repo. Built inside out in
 * short paths (each step wraps the chain in a new directory), then moved in at once.
 */
async function breakRepo(name: string): Promise<void> {
  const segment = "d".repeat(250);
  let chain = path.join(base, "chain");
  await fs.mkdir(chain);
  for (let i = 0; i < 18; i++) {
    const wrap = path.join(base, `wrap-${i}`);
    await fs.mkdir(wrap);
    await fs.rename(chain, path.join(wrap, segment));
    chain = wrap;
  }
  await fs.rename(chain, path.join(root, name, "data", "deep"));
}

describe("RepoFactsCache: a repo that can't be read", () => {
  test("keeps its last good facts and logs a warning naming it", async () => {
    const cache = new RepoFactsCache({ root, refreshIntervalMs: 60_000, logger: logger() });
    const listed = await cache.list();
    expect(listed).toMatchObject([{ name: "laptop", size_bytes: 10 }]);

    await breakRepo("laptop");
    await cache.refreshNow();
    expect(await cache.list()).toEqual(listed);
    const warning = lines.find((l) => l.includes("cannot read repo facts"));
    expect(warning).toContain(" warn ");
    expect(warning).toContain("keeping the last good ones");
    expect(warning).toContain("repo=laptop");
    expect(warning).toContain("ENAMETOOLONG");
  });

  test("never read before: left out of the listing, and said", async () => {
    await breakRepo("laptop");
    const cache = new RepoFactsCache({ root, logger: logger() });
    expect(await cache.list()).toEqual([]);
    const warning = lines.find((l) => l.includes("cannot read repo facts"));
    expect(warning).toContain("leaving the repo out of the listing");
    expect(warning).toContain("repo=laptop");
  });

  test("a repo that is gone is no warning: it just leaves the listing", async () => {
    const cache = new RepoFactsCache({ root, logger: logger() });
    expect(await cache.list()).toHaveLength(1);
    await fs.rm(path.join(root, "laptop"), { recursive: true });
    expect(await cache.list()).toEqual([]);
    expect(lines.filter((l) => l.includes(" warn "))).toEqual([]);
  });
});
