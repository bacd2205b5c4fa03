import { describe, expect, test } from "bun:test";
import { buildListCommand } from "../../../../src/borg/commands/list.ts";
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

const FORMAT = "--format={hostname}{username}{comment}{end}";

describe("buildListCommand", () => {
  test("1.x: borg list REPO", () => {
    expect(
      buildListCommand(borg1, { repo: "/r", considerCheckpoints: true, lockWaitSeconds: 10 }),
    ).toEqual({
      argv: [
        "list",
        "--json",
        "--log-json",
        FORMAT,
        "--consider-checkpoints",
        "--lock-wait=10",
        "--",
        "/r",
      ],
    });
    expect(buildListCommand(borg1, { repo: "/r" }).argv).toEqual([
      "list",
      "--json",
      "--log-json",
      FORMAT,
      "--",
      "/r",
    ]);
  });

  test("2.0.0b5: rlist --repo=", () => {
    expect(buildListCommand(borg2b5, { repo: "/r", considerCheckpoints: true }).argv).toEqual([
      "rlist",
      "--json",
      "--log-json",
      FORMAT,
      "--repo=/r",
      "--consider-checkpoints",
    ]);
  });

  test("2.0: repo-list, no checkpoints to consider", () => {
    expect(buildListCommand(borg2, { repo: "/r", considerCheckpoints: true }).argv).toEqual([
      "repo-list",
      "--json",
      "--log-json",
      FORMAT,
      "--repo=/r",
    ]);
  });

  test("validates the repo", () => {
    expectInvalid(() => buildListCommand(borg2, { repo: "-r" }), /start with "-"/);
  });
});
