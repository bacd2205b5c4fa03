import { describe, expect, test } from "bun:test";
import { defaultDataDir } from "../../../../src/shared/config/common.ts";

describe("defaultDataDir", () => {
  test("XDG on Linux, Application Support on macOS", () => {
    expect(defaultDataDir({}, "linux", "/home/a")).toBe("/home/a/.local/share/borgctl");
    expect(defaultDataDir({ XDG_DATA_HOME: "/x" }, "linux", "/home/a")).toBe("/x/borgctl");
    expect(defaultDataDir({ XDG_DATA_HOME: "relative" }, "linux", "/home/a")).toBe(
      "/home/a/.local/share/borgctl",
    );
    expect(defaultDataDir({}, "darwin", "/Users/a")).toBe(
      "/Users/a/Library/Application Support/borgctl",
    );
  });
});
