import { describe, expect, test } from "bun:test";
import {
  archiveMatchArgs,
  assemble,
  checkArchiveName,
  checkInteger,
  checkPath,
  commonOptionArgs,
  repoTarget,
} from "../../../../src/borg/commands/common.ts";
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

function expectInvalid(run: () => unknown): void {
  expect(run).toThrow(AppError);
}

describe("assemble", () => {
  test("puts -- before positionals, and only when there are some", () => {
    expect(assemble("list", ["--json"], ["/r"])).toEqual(["list", "--json", "--", "/r"]);
    expect(assemble("list", ["--json", "--repo=/r"], [])).toEqual(["list", "--json", "--repo=/r"]);
  });
});

describe("repoTarget", () => {
  test("1.x: one positional, REPO::ARCHIVE with an archive", () => {
    expect(repoTarget(borg1, "/r")).toEqual({ options: [], positionals: ["/r"] });
    expect(repoTarget(borg1, "/r", "a")).toEqual({ options: [], positionals: ["/r::a"] });
  });

  test("2.x: --repo= and the archive apart", () => {
    expect(repoTarget(borg2, "/r")).toEqual({ options: ["--repo=/r"], positionals: [] });
    expect(repoTarget(borg2, "/r", "a")).toEqual({ options: ["--repo=/r"], positionals: ["a"] });
  });

  test("checks repo and archive", () => {
    expectInvalid(() => repoTarget(borg1, "-r"));
    expectInvalid(() => repoTarget(borg1, "/r::x"));
    expectInvalid(() => repoTarget(borg2, "/r", "a/b"));
    expectInvalid(() => repoTarget(borg2, "/r\u0000"));
  });
});

describe("archiveMatchArgs", () => {
  test("glob syntax per version, prefix as PREFIX*", () => {
    expect(archiveMatchArgs(borg1, { glob: "x-*" })).toEqual(["--glob-archives=x-*"]);
    expect(archiveMatchArgs(borg2, { glob: "x-*" })).toEqual(["--match-archives=sh:x-*"]);
    expect(archiveMatchArgs(borg1, { prefix: "x-" })).toEqual(["--glob-archives=x-*"]);
    expect(archiveMatchArgs(borg1, {})).toEqual([]);
  });

  test("a prefix may not carry glob characters", () => {
    for (const prefix of ["a*", "a?", "a[b]", "a{b,c}"]) {
      expectInvalid(() => archiveMatchArgs(borg1, { prefix }));
    }
  });
});

describe("checks", () => {
  test("archive names", () => {
    expect(checkArchiveName("host-{now}")).toBe("host-{now}");
    for (const bad of ["", "a/b", "-a", "a\tb", "a\u007fb"])
      expectInvalid(() => checkArchiveName(bad));
  });

  test("paths are absolute (so never an option), not empty, one line", () => {
    expect(checkPath("/home/-rf")).toBe("/home/-rf");
    expectInvalid(() => checkPath("-rf"));
    expectInvalid(() => checkPath("home"));
    expectInvalid(() => checkPath("/a\nb"));
    expectInvalid(() => checkPath(""));
    expectInvalid(() => checkPath("/a\u0000b"));
  });

  test("integers", () => {
    expect(checkInteger("n", 0, 0)).toBe(0);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expectInvalid(() => checkInteger("n", bad, 0));
    }
  });

  test("common options", () => {
    expect(commonOptionArgs({})).toEqual([]);
    expect(commonOptionArgs({ lockWaitSeconds: 7 })).toEqual(["--lock-wait=7"]);
  });
});
