import { describe, expect, test } from "bun:test";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  missingSourcePaths,
  missingSourcesMessage,
  planSources,
  skippedSourceWarning,
} from "../../../src/agent/source-paths.ts";

describe("missing source paths", () => {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-sources-"));
  writeFileSync(join(dir, "file"), "x");
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));

  test("names paths that do not exist (or sit under a file); a dangling symlink exists", async () => {
    const paths = [
      dir,
      join(dir, "file"),
      join(dir, "dangling"),
      join(dir, "gone"),
      join(dir, "file", "below"),
      // Too long to look up: borg's to report (it warns), not "does not exist".
      join(dir, "n".repeat(300)),
    ];
    expect(await missingSourcePaths(paths)).toEqual([
      join(dir, "gone"),
      join(dir, "file", "below"),
    ]);
  });

  test("the message names each missing path, quoted", () => {
    expect(missingSourcesMessage([])).toBeUndefined();
    expect(missingSourcesMessage(["/srv/a b"])).toBe(
      'source path "/srv/a b" does not exist on this machine; nothing was backed up (fix the repository\'s source paths or create the path)',
    );
    expect(missingSourcesMessage(["/a", "/b"])).toStartWith('source paths "/a", "/b" do not exist');
  });
});

describe("optional source paths", () => {
  const dir = mkdtempSync(join(tmpdir(), "borgctl-optional-"));
  writeFileSync(join(dir, "here"), "x");
  const here = join(dir, "here");
  const gone = join(dir, "gone");
  const alsoGone = join(dir, "also-gone");

  test("a missing optional source is left out and named; the present ones keep their order", async () => {
    expect(await planSources([dir], [gone, here])).toEqual({
      ok: true,
      paths: [dir, here],
      skipped: [gone],
    });
    expect(skippedSourceWarning(gone)).toBe(
      `optional source path ${JSON.stringify(gone)} does not exist on this machine; it was left out of this backup`,
    );
  });

  test("a missing required source still fails, whatever the optional ones", async () => {
    const plan = await planSources([gone], [here]);
    expect(plan.ok).toBe(false);
    if (!plan.ok)
      expect(plan.message).toStartWith(`source path ${JSON.stringify(gone)} does not exist`);
  });

  test("a path listed as both counts as required; duplicates go to borg once", async () => {
    expect(await planSources([here], [here, gone, gone])).toEqual({
      ok: true,
      paths: [here],
      skipped: [gone],
    });
    const plan = await planSources([gone], [gone]);
    expect(plan.ok).toBe(false);
  });

  test("every source missing fails: no empty archive", async () => {
    const plan = await planSources([], [gone, alsoGone]);
    expect(plan.ok).toBe(false);
    if (!plan.ok)
      expect(plan.message).toContain(`${JSON.stringify(gone)}, ${JSON.stringify(alsoGone)}`);
  });
});
