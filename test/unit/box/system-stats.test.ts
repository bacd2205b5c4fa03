import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readDiskSpace, readSystemStats } from "../../../src/box/system-stats.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "borgctl-stats-"));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Total size of the filesystem holding `dir`, as df(1) reports it (1-byte blocks). */
async function dfTotalBytes(dir: string): Promise<number> {
  const result = await runProcess({
    argv: ["df", "--block-size=1", "--output=size", dir],
    captureStdout: true,
  });
  return Number(result.stdout.trim().split("\n").at(-1));
}

describe("readDiskSpace", () => {
  test("matches df for an existing dir", async () => {
    const space = await readDiskSpace(tmp);
    expect(space.total_bytes).toBe(await dfTotalBytes(tmp));
    expect(space.free_bytes).toBeGreaterThan(0);
    expect(space.free_bytes).toBeLessThanOrEqual(space.total_bytes);
  });

  test("a root that does not exist yet is measured on its nearest parent", async () => {
    const missing = path.join(tmp, "not", "yet", "repos");
    const space = await readDiskSpace(missing);
    expect(space.total_bytes).toBe(await dfTotalBytes(tmp));
  });
});

describe("readSystemStats", () => {
  test("reports host facts and the storage of the root", async () => {
    const root = path.join(tmp, "repos");
    const stats = await readSystemStats(root);
    expect(stats.hostname).toBe(os.hostname());
    expect(Number.isInteger(stats.uptime_seconds)).toBe(true);
    expect(stats.uptime_seconds).toBeGreaterThan(0);
    expect(stats.load).toHaveLength(3);
    for (const l of stats.load) expect(l).toBeGreaterThanOrEqual(0);
    expect(stats.storage.path).toBe(root);
    expect(stats.storage.total_bytes).toBe(await dfTotalBytes(tmp));
    expect(stats.storage.used_bytes).toBeGreaterThan(0);
    expect(stats.storage.used_bytes).toBeLessThanOrEqual(stats.storage.total_bytes);
    expect(stats.storage.free_bytes).toBeLessThanOrEqual(
      stats.storage.total_bytes - stats.storage.used_bytes,
    );
  });

  test("a relative root is reported as an absolute path", async () => {
    const stats = await readSystemStats("some-relative-root");
    expect(stats.storage.path).toBe(path.resolve("some-relative-root"));
  });
});
