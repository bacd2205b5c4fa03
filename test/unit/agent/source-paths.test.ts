import { describe, expect, test } from "bun:test";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingSourcePaths, missingSourcesMessage } from "../../../src/agent/source-paths.ts";

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
