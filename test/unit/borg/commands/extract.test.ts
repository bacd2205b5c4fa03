import { describe, expect, test } from "bun:test";
import { buildExtractCommand } from "../../../../src/borg/commands/extract.ts";
import { buildListArchiveCommand } from "../../../../src/borg/commands/list-archive.ts";
import { featuresFor } from "../../../../src/borg/features.ts";
import { parseBorgVersion } from "../../../../src/borg/version.ts";
import { AppError } from "../../../../src/shared/errors.ts";

const features = (text: string) => {
  const version = parseBorgVersion(`borg ${text}`);
  if (!version) throw new Error(`bad test version ${text}`);
  return featuresFor(version);
};
const borg1 = features("1.2.4");
const borg2 = features("2.0.0b5");
const repo = "ssh://borg@box.example.com:2222/./laptop";

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

describe("buildListArchiveCommand", () => {
  test("1.x: REPO::ARCHIVE and member paths after --, in borg's spelling", () => {
    expect(
      buildListArchiveCommand(borg1, { repo, archive: "a-1", paths: ["/home/u/", "etc/hosts"] })
        .argv,
    ).toEqual(["list", "--json-lines", "--log-json", "--", `${repo}::a-1`, "home/u", "etc/hosts"]);
  });

  test("2.x: --repo= and the archive as its own positional", () => {
    expect(buildListArchiveCommand(borg2, { repo, archive: "a-1" }).argv).toEqual([
      "list",
      "--json-lines",
      "--log-json",
      `--repo=${repo}`,
      "--",
      "a-1",
    ]);
  });

  test("paths that climb, are empty or carry control characters are refused", () => {
    for (const path of ["a/../../etc", "..", "/", "", "a//b", "a/./b", "a\nb"]) {
      expectInvalid(
        () => buildListArchiveCommand(borg1, { repo, archive: "a-1", paths: [path] }),
        /^archive path /,
      );
    }
    expectInvalid(() => buildListArchiveCommand(borg1, { repo, archive: "--x" }), /archive name/);
  });
});

describe("buildExtractCommand", () => {
  test("1.x restore and dry run", () => {
    expect(buildExtractCommand(borg1, { repo, archive: "a-1", paths: ["home/u"] }).argv).toEqual([
      "extract",
      "--progress",
      "--log-json",
      "--",
      `${repo}::a-1`,
      "home/u",
    ]);
    expect(
      buildExtractCommand(borg1, { repo, archive: "a-1", dryRun: true, list: true }).argv,
    ).toEqual(["extract", "--progress", "--log-json", "--dry-run", "--list", "--", `${repo}::a-1`]);
  });

  test("2.x", () => {
    expect(buildExtractCommand(borg2, { repo, archive: "a-1", paths: ["-rf"] }).argv).toEqual([
      "extract",
      "--progress",
      "--log-json",
      `--repo=${repo}`,
      "--",
      "a-1",
      "-rf",
    ]);
  });

  test("a bad member path or repository is refused before borg sees it", () => {
    expectInvalid(
      () => buildExtractCommand(borg1, { repo, archive: "a-1", paths: ["x/../.."] }),
      /^archive path /,
    );
    expectInvalid(
      () => buildExtractCommand(borg1, { repo: "ssh://-oProxyCommand=x/r", archive: "a-1" }),
      /repository location/,
    );
  });
});
