import { describe, expect, test } from "bun:test";
import { buildInitCommand } from "../../../../src/borg/commands/init.ts";
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

describe("buildInitCommand", () => {
  test("1.x: borg init with the repo positional after --", () => {
    expect(
      buildInitCommand(borg1, {
        repo: "ssh://u@box:2222/./repos/web",
        encryption: "repokey-blake2",
        appendOnly: true,
        storageQuotaBytes: 50_000_000_000,
        makeParentDirs: true,
        lockWaitSeconds: 30,
      }),
    ).toEqual({
      argv: [
        "init",
        "--log-json",
        "--encryption=repokey-blake2",
        "--append-only",
        "--storage-quota=50000000000",
        "--make-parent-dirs",
        "--lock-wait=30",
        "--",
        "ssh://u@box:2222/./repos/web",
      ],
    });
    expect(buildInitCommand(borg1, { repo: "/r", encryption: "none" }).argv).toEqual([
      "init",
      "--log-json",
      "--encryption=none",
      "--",
      "/r",
    ]);
  });

  test("2.0.0b5: rcreate --repo=", () => {
    expect(
      buildInitCommand(borg2b5, {
        repo: "/srv/r",
        encryption: "repokey-blake2-chacha20-poly1305",
        makeParentDirs: true,
      }).argv,
    ).toEqual([
      "rcreate",
      "--log-json",
      "--repo=/srv/r",
      "--encryption=repokey-blake2-chacha20-poly1305",
      "--make-parent-dirs",
    ]);
  });

  test("2.0: repo-create, parents are made anyway", () => {
    expect(
      buildInitCommand(borg2, {
        repo: "/srv/r",
        encryption: "repokey-aes-ocb",
        makeParentDirs: true,
      }).argv,
    ).toEqual(["repo-create", "--log-json", "--repo=/srv/r", "--encryption=repokey-aes-ocb"]);
  });

  test("refuses append-only and quota where the version has none", () => {
    expectInvalid(
      () =>
        buildInitCommand(borg2, { repo: "/r", encryption: "repokey-aes-ocb", appendOnly: true }),
      /append-only/,
    );
    expectInvalid(
      () =>
        buildInitCommand(borg2, {
          repo: "/r",
          encryption: "repokey-aes-ocb",
          storageQuotaBytes: 20_000_000,
        }),
      /storage-quota/,
    );
  });

  test("validates the encryption mode per version, the quota and the repo", () => {
    expectInvalid(
      () => buildInitCommand(borg1, { repo: "/r", encryption: "repokey-aes-ocb" }),
      /encryption mode/,
    );
    expectInvalid(
      () => buildInitCommand(borg2b5, { repo: "/r", encryption: "repokey-blake2" }),
      /encryption mode/,
    );
    expectInvalid(
      () =>
        buildInitCommand(borg1, {
          repo: "/r",
          encryption: "repokey",
          storageQuotaBytes: 9_999_999,
        }),
      /storage quota/,
    );
    expectInvalid(
      () =>
        buildInitCommand(borg1, {
          repo: "/r",
          encryption: "repokey",
          storageQuotaBytes: 1.5e7 + 0.5,
        }),
      /storage quota/,
    );
    expectInvalid(
      () => buildInitCommand(borg1, { repo: "--help", encryption: "repokey" }),
      /start with "-"/,
    );
    expectInvalid(() => buildInitCommand(borg1, { repo: "/r::x", encryption: "repokey" }), /::/);
    expectInvalid(() => buildInitCommand(borg1, { repo: "", encryption: "repokey" }), /empty/);
    expectInvalid(
      () => buildInitCommand(borg1, { repo: "/r\n", encryption: "repokey" }),
      /control/,
    );
  });
});
