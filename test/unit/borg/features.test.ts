import { describe, expect, test } from "bun:test";
import { featuresFor } from "../../../src/borg/features.ts";
import { parseBorgVersion } from "../../../src/borg/version.ts";

const features = (text: string) => {
  const version = parseBorgVersion(`borg ${text}`);
  if (!version) throw new Error(`bad test version ${text}`);
  return featuresFor(version);
};

describe("featuresFor", () => {
  test("1.2.4 (checked with the real binary)", () => {
    const f = features("1.2.4");
    expect(f).toMatchObject({
      supported: true,
      repoCreateCommand: "init",
      repoListCommand: "list",
      repoInfoCommand: "info",
      repoArgument: "positional",
      archiveGlob: "glob-archives",
      compactAfterPrune: true,
      createProgressHasCompressedSizes: true,
      modernExitCodes: "none",
      checkpoints: true,
      makeParentDirs: "option",
      appendOnlyAndQuota: true,
    });
    expect(f.encryptionModes).toContain("repokey-blake2");
    expect(f.encryptionModes).not.toContain("repokey-blake2-chacha20-poly1305");
  });

  test("1.4 has opt-in modern exit codes, 1.1 is unsupported", () => {
    expect(features("1.4.0").modernExitCodes).toBe("opt-in");
    expect(features("1.1.18").supported).toBe(false);
    expect(features("1.1.18").compactAfterPrune).toBe(false);
  });

  test("2.0.0b5 (checked with the real binary)", () => {
    const f = features("2.0.0b5");
    expect(f).toMatchObject({
      supported: true,
      repoCreateCommand: "rcreate",
      repoListCommand: "rlist",
      repoInfoCommand: "rinfo",
      repoArgument: "option",
      archiveGlob: "match-archives-sh",
      compactAfterPrune: true,
      createProgressHasCompressedSizes: false,
      modernExitCodes: "none",
      checkpoints: true,
      makeParentDirs: "option",
      appendOnlyAndQuota: true,
    });
    expect(f.encryptionModes).toContain("repokey-blake2-chacha20-poly1305");
    expect(f.encryptionModes).not.toContain("repokey-blake2");
  });

  test("early 2.0 betas still use --glob-archives", () => {
    expect(features("2.0.0b4").archiveGlob).toBe("glob-archives");
  });

  test("2.0.0b8/b9 modern exit codes: opt-in, then default", () => {
    expect(features("2.0.0b8").modernExitCodes).toBe("opt-in");
    expect(features("2.0.0b9").modernExitCodes).toBe("default");
  });

  test("2.0.0b10+ (borgstore): repo-* commands, no checkpoints, no append-only", () => {
    const f = features("2.0.0b10");
    expect(f.repoCreateCommand).toBe("repo-create");
    expect(f.repoListCommand).toBe("repo-list");
    expect(f.repoInfoCommand).toBe("repo-info");
    expect(f.checkpoints).toBe(false);
    expect(f.appendOnlyAndQuota).toBe(false);
    expect(f.makeParentDirs).toBe("option");
    expect(features("2.0.0b9").repoCreateCommand).toBe("rcreate");
  });

  test("2.0.0b15+, 2.0.0 and later 2.x create parent dirs themselves", () => {
    expect(features("2.0.0b15").makeParentDirs).toBe("automatic");
    for (const text of ["2.0.0", "2.0.0rc1", "2.1.3"]) {
      const f = features(text);
      expect(f.repoCreateCommand).toBe("repo-create");
      expect(f.makeParentDirs).toBe("automatic");
      expect(f.modernExitCodes).toBe("default");
    }
  });

  test("keeps the version it was built for", () => {
    expect(features("2.0.0b5").version.raw).toBe("2.0.0b5");
  });
});
