import { describe, expect, test } from "bun:test";
import { buildBreakLockCommand } from "../../../../src/borg/commands/break-lock.ts";
import { featuresFor } from "../../../../src/borg/features.ts";
import { parseBorgVersion } from "../../../../src/borg/version.ts";
import { AppError } from "../../../../src/shared/errors.ts";

const features = (text: string) => {
  const version = parseBorgVersion(`borg ${text}`);
  if (!version) throw new Error(`bad test version ${text}`);
  return featuresFor(version);
};
const borg1 = features("1.2.4");
const borg2b5 = features("2.0.0b5");
const borg2 = features("2.0.0");

function expectInvalid(run: () => unknown, message: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("validation_failed");
    expect((error as AppError).message).toMatch(message);
    return;
  }
  throw new Error("expected a validation error");
}

describe("buildBreakLockCommand", () => {
  test("1.x and 2.x", () => {
    expect(buildBreakLockCommand(borg1, { repo: "/r" })).toEqual({
      argv: ["break-lock", "--log-json", "--", "/r"],
    });
    expect(buildBreakLockCommand(borg2b5, { repo: "/r" }).argv).toEqual([
      "break-lock",
      "--log-json",
      "--repo=/r",
    ]);
    expect(buildBreakLockCommand(borg2, { repo: "/r" }).argv).toEqual([
      "break-lock",
      "--log-json",
      "--repo=/r",
    ]);
  });

  test("validates the repo", () => {
    expectInvalid(() => buildBreakLockCommand(borg1, { repo: "a::b" }), /::/);
    // 2.x has no REPO::ARCHIVE syntax, so "::" is just part of the location there.
    expect(buildBreakLockCommand(borg2, { repo: "/a::b" }).argv).toContain("--repo=/a::b");
  });
});
