import { describe, expect, test } from "bun:test";
import { buildInfoCommand } from "../../../../src/borg/commands/info.ts";
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

describe("buildInfoCommand", () => {
  test("1.x: borg info REPO", () => {
    expect(buildInfoCommand(borg1, { repo: "/r" })).toEqual({
      argv: ["info", "--json", "--log-json", "--", "/r"],
    });
  });

  test("2.0.0b5: rinfo; 2.0: repo-info", () => {
    expect(buildInfoCommand(borg2b5, { repo: "/r", lockWaitSeconds: 0 }).argv).toEqual([
      "rinfo",
      "--json",
      "--log-json",
      "--repo=/r",
      "--lock-wait=0",
    ]);
    expect(buildInfoCommand(borg2, { repo: "/r" }).argv).toEqual([
      "repo-info",
      "--json",
      "--log-json",
      "--repo=/r",
    ]);
  });

  test("validates the repo", () => {
    expectInvalid(() => buildInfoCommand(borg1, { repo: "" }), /empty/);
  });
});
