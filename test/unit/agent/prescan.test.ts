import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { estimateSourceBytes } from "../../../src/agent/prescan.ts";

let dir: string;
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("estimateSourceBytes", () => {
  test("sums regular files, does not follow symlinks, skips missing paths", async () => {
    dir = await mkdtemp(join(tmpdir(), "borgctl-prescan-"));
    await mkdir(join(dir, "a", "b"), { recursive: true });
    await writeFile(join(dir, "a", "one"), Buffer.alloc(1000));
    await writeFile(join(dir, "a", "b", "two"), Buffer.alloc(2500));
    await symlink("/usr", join(dir, "a", "link-to-usr"));
    expect(await estimateSourceBytes([join(dir, "a"), join(dir, "missing")])).toBe(3500);
  });

  test("gives up (undefined) past its entry budget or time budget", async () => {
    expect(await estimateSourceBytes([join(dir, "a")], { maxEntries: 2 })).toBeUndefined();
    let t = 0;
    expect(
      await estimateSourceBytes([join(dir, "a")], { maxMs: 5, now: () => (t += 10) }),
    ).toBeUndefined();
  });

  test("stops (undefined) once its signal aborts: the backup it was for has ended", async () => {
    const ended = new AbortController();
    ended.abort();
    expect(await estimateSourceBytes([join(dir, "a")], { signal: ended.signal })).toBeUndefined();
    expect(
      await estimateSourceBytes([join(dir, "a")], { signal: new AbortController().signal }),
    ).toBe(3500);
  });
});
