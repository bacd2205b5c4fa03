import { describe, expect, test } from "bun:test";
import { buildVersionCommand } from "../../../../src/borg/commands/version.ts";

describe("buildVersionCommand", () => {
  test("--version and nothing else", () => {
    expect(buildVersionCommand()).toEqual({ argv: ["--version"] });
  });
});
