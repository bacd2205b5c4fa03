import { describe, expect, test } from "bun:test";
import { buildCompactCommand } from "../../../../src/borg/commands/compact.ts";
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

describe("buildCompactCommand", () => {
  test("1.x", () => {
    expect(buildCompactCommand(borg1, { repo: "/r", lockWaitSeconds: 60 })).toEqual({
      argv: ["compact", "--log-json", "--progress", "--lock-wait=60", "--", "/r"],
    });
  });

  test("2.x", () => {
    expect(buildCompactCommand(borg2b5, { repo: "/r" }).argv).toEqual([
      "compact",
      "--log-json",
      "--progress",
      "--repo=/r",
    ]);
    expect(buildCompactCommand(borg2, { repo: "/r" }).argv).toEqual([
      "compact",
      "--log-json",
      "--progress",
      "--repo=/r",
    ]);
  });

  test("validates the repo", () => {
    expectInvalid(() => buildCompactCommand(borg1, { repo: "-x" }), /start with "-"/);
  });
});
