import { describe, expect, test } from "bun:test";
import { buildCheckCommand } from "../../../../src/borg/commands/check.ts";
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

describe("buildCheckCommand", () => {
  test("1.x: full check", () => {
    expect(buildCheckCommand(borg1, { repo: "/r" })).toEqual({
      argv: ["check", "--log-json", "--progress", "--", "/r"],
    });
  });

  test("1.x: every flag; repair brings its confirmation in env", () => {
    expect(
      buildCheckCommand(borg1, { repo: "/r", archivesOnly: true, verifyData: true, repair: true }),
    ).toEqual({
      argv: [
        "check",
        "--log-json",
        "--progress",
        "--archives-only",
        "--verify-data",
        "--repair",
        "--",
        "/r",
      ],
      env: { BORG_CHECK_I_KNOW_WHAT_I_AM_DOING: "YES" },
    });
    expect(buildCheckCommand(borg1, { repo: "/r", repositoryOnly: true }).argv).toEqual([
      "check",
      "--log-json",
      "--progress",
      "--repository-only",
      "--",
      "/r",
    ]);
  });

  test("2.x: --repo=", () => {
    expect(
      buildCheckCommand(borg2b5, { repo: "/r", repositoryOnly: true, lockWaitSeconds: 3 }).argv,
    ).toEqual([
      "check",
      "--log-json",
      "--progress",
      "--repo=/r",
      "--repository-only",
      "--lock-wait=3",
    ]);
    expect(buildCheckCommand(borg2, { repo: "/r" }).argv).toEqual([
      "check",
      "--log-json",
      "--progress",
      "--repo=/r",
    ]);
  });

  test("no env without repair", () => {
    expect(buildCheckCommand(borg1, { repo: "/r", repair: false }).env).toBeUndefined();
  });

  test("refuses contradicting flags", () => {
    expectInvalid(
      () => buildCheckCommand(borg1, { repo: "/r", repositoryOnly: true, archivesOnly: true }),
      /exclude/,
    );
    expectInvalid(
      () => buildCheckCommand(borg1, { repo: "/r", repositoryOnly: true, verifyData: true }),
      /verify-data/,
    );
  });
});
