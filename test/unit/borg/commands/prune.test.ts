import { describe, expect, test } from "bun:test";
import { buildPruneCommand } from "../../../../src/borg/commands/prune.ts";
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

const rules = {
  keepWithin: "2d",
  keepLast: 3,
  keepHourly: 24,
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 6,
  keepYearly: 1,
};

describe("buildPruneCommand", () => {
  test("1.x: every rule, dry run, glob", () => {
    expect(buildPruneCommand(borg1, { repo: "/r", ...rules, dryRun: true, glob: "web-*" })).toEqual(
      {
        argv: [
          "prune",
          "--log-json",
          "--list",
          "--dry-run",
          "--keep-within=2d",
          "--keep-last=3",
          "--keep-hourly=24",
          "--keep-daily=7",
          "--keep-weekly=4",
          "--keep-monthly=6",
          "--keep-yearly=1",
          "--glob-archives=web-*",
          "--",
          "/r",
        ],
      },
    );
  });

  test("1.x: a prefix becomes a glob; list can be turned off", () => {
    expect(
      buildPruneCommand(borg1, { repo: "/r", keepDaily: 7, prefix: "web-", list: false }).argv,
    ).toEqual(["prune", "--log-json", "--keep-daily=7", "--glob-archives=web-*", "--", "/r"]);
  });

  test("2.0.0b5 and 2.0: --match-archives=sh:", () => {
    const expected = [
      "prune",
      "--log-json",
      "--repo=/r",
      "--list",
      "--keep-daily=7",
      "--match-archives=sh:web-*",
    ];
    expect(buildPruneCommand(borg2b5, { repo: "/r", keepDaily: 7, glob: "web-*" }).argv).toEqual(
      expected,
    );
    expect(buildPruneCommand(borg2, { repo: "/r", keepDaily: 7, prefix: "web-" }).argv).toEqual(
      expected,
    );
  });

  test("a rule of 0 is no rule", () => {
    expect(
      buildPruneCommand(borg1, { repo: "/r", keepDaily: 7, keepHourly: 0 }).argv,
    ).not.toContain("--keep-hourly=0");
    expectInvalid(
      () => buildPruneCommand(borg1, { repo: "/r", keepDaily: 0 }),
      /at least one keep rule/,
    );
  });

  test("validates rules and selection", () => {
    expectInvalid(() => buildPruneCommand(borg1, { repo: "/r" }), /at least one keep rule/);
    expectInvalid(() => buildPruneCommand(borg1, { repo: "/r", keepDaily: -1 }), /keep-daily/);
    expectInvalid(() => buildPruneCommand(borg1, { repo: "/r", keepDaily: 1.5 }), /keep-daily/);
    for (const within of ["0d", "7", "7x", "-7d", "7 d", "1.5d"]) {
      expectInvalid(
        () => buildPruneCommand(borg1, { repo: "/r", keepWithin: within }),
        /keep-within/,
      );
    }
    expectInvalid(
      () => buildPruneCommand(borg1, { repo: "/r", keepDaily: 1, glob: "a*", prefix: "a" }),
      /not both/,
    );
    expectInvalid(
      () => buildPruneCommand(borg1, { repo: "/r", keepDaily: 1, prefix: "web-*" }),
      /glob characters/,
    );
    expectInvalid(() => buildPruneCommand(borg1, { repo: "/r", keepDaily: 1, glob: "" }), /empty/);
  });
});
