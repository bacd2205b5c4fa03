import { describe, expect, test } from "bun:test";
import { buildCreateCommand } from "../../../../src/borg/commands/create.ts";
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

const full = {
  repo: "ssh://u@box/./web",
  archive: "web-2026-01-02T03:04:05",
  paths: ["/etc", "/home/-odd name"],
  excludes: ["*.pyc", "-starts-with-dash"],
  compression: "zstd,3",
  oneFileSystem: true,
  excludeCaches: true,
  checkpointIntervalSeconds: 600,
  lockWaitSeconds: 5,
};

describe("buildCreateCommand", () => {
  test("1.x: REPO::ARCHIVE and paths after --", () => {
    expect(buildCreateCommand(borg1, full)).toEqual({
      argv: [
        "create",
        "--log-json",
        "--progress",
        "--json",
        "--compression=zstd,3",
        "--exclude=*.pyc",
        "--exclude=-starts-with-dash",
        "--one-file-system",
        "--exclude-caches",
        "--checkpoint-interval=600",
        "--lock-wait=5",
        "--",
        "ssh://u@box/./web::web-2026-01-02T03:04:05",
        "/etc",
        "/home/-odd name",
      ],
    });
  });

  test("2.0.0b5: --repo=, archive name as the first positional", () => {
    expect(buildCreateCommand(borg2b5, full).argv).toEqual([
      "create",
      "--log-json",
      "--progress",
      "--json",
      "--repo=ssh://u@box/./web",
      "--compression=zstd,3",
      "--exclude=*.pyc",
      "--exclude=-starts-with-dash",
      "--one-file-system",
      "--exclude-caches",
      "--checkpoint-interval=600",
      "--lock-wait=5",
      "--",
      "web-2026-01-02T03:04:05",
      "/etc",
      "/home/-odd name",
    ]);
  });

  test("2.0: no checkpoints, so no checkpoint interval", () => {
    expect(buildCreateCommand(borg2, full).argv).not.toContain("--checkpoint-interval=600");
  });

  test("the minimal command", () => {
    expect(buildCreateCommand(borg1, { repo: "/r", archive: "a", paths: ["/data"] }).argv).toEqual([
      "create",
      "--log-json",
      "--progress",
      "--json",
      "--",
      "/r::a",
      "/data",
    ]);
  });

  test("never --stats, never a passphrase or env", () => {
    const command = buildCreateCommand(borg1, full);
    expect(command.argv).not.toContain("--stats");
    expect(command.env).toBeUndefined();
  });

  test("validates names, paths, patterns, compression and numbers", () => {
    const base = { repo: "/r", archive: "a", paths: ["/data"] };
    expectInvalid(() => buildCreateCommand(borg1, { ...base, paths: [] }), /at least one path/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, paths: [""] }), /empty/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, archive: "" }), /empty/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, archive: "a/b" }), /"\/"/);
    expectInvalid(
      () => buildCreateCommand(borg2, { ...base, archive: "--help" }),
      /start with "-"/,
    );
    expectInvalid(() => buildCreateCommand(borg1, { ...base, archive: "a\nb" }), /control/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, excludes: ["a\nb"] }), /control/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, compression: "gzip" }), /compression/);
    expectInvalid(
      () => buildCreateCommand(borg1, { ...base, compression: "lz4 --x" }),
      /compression/,
    );
    expectInvalid(
      () => buildCreateCommand(borg1, { ...base, checkpointIntervalSeconds: 0 }),
      /checkpoint interval/,
    );
    expectInvalid(() => buildCreateCommand(borg1, { ...base, lockWaitSeconds: -1 }), /lock wait/);
    expectInvalid(() => buildCreateCommand(borg1, { ...base, lockWaitSeconds: 0.5 }), /lock wait/);
  });
});
