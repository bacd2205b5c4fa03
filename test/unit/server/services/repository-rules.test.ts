import { describe, expect, test } from "bun:test";
import {
  checkArchiveTemplate,
  checkExcludePatterns,
  checkLocation,
  checkPassphraseRules,
} from "../../../../src/server/services/repository-rules.ts";

describe("checkLocation", () => {
  test("accepts paths and URLs", () => {
    for (const location of ["/srv/borg/a", "ssh://u@h:22/./repo", "u@h:repo"]) {
      expect(() => checkLocation(location, 1)).not.toThrow();
    }
    // A relative path would depend on the agent's working directory.
    expect(() => checkLocation("rel/path", 1)).toThrow(/absolute path/);
  });
  test("refuses control characters, a leading dash, and :: for borg 1 only", () => {
    expect(() => checkLocation("/srv/a\nb", 1)).toThrow(/control character/);
    expect(() => checkLocation("/srv/a\u007fb", 2)).toThrow(/control character/);
    expect(() => checkLocation("--remote-path=evil", 1)).toThrow(/must not start with "-"/);
    expect(() => checkLocation("/srv/a::b", 1)).toThrow(/::/);
    expect(() => checkLocation("/srv/a::b", 2)).not.toThrow();
  });
});

describe("checkArchiveTemplate and checkExcludePatterns", () => {
  test("archive names", () => {
    expect(() => checkArchiveTemplate("{hostname}-{now:%Y-%m-%d}")).not.toThrow();
    expect(() => checkArchiveTemplate("a/b")).toThrow();
    expect(() => checkArchiveTemplate("-x")).toThrow();
    expect(() => checkArchiveTemplate("a\tb")).toThrow();
  });
  test("exclude patterns", () => {
    expect(() => checkExcludePatterns(["*.tmp", "pp:/var/cache"])).not.toThrow();
    expect(() => checkExcludePatterns(["ok", "bad\n"])).toThrow();
  });
});

describe("checkPassphraseRules", () => {
  const check =
    (encryption: string, passphraseLocation: "hub" | "agent", passphrase?: string) => () =>
      checkPassphraseRules({ encryption, passphraseLocation, passphrase });
  test("hub: encrypted needs one, none takes none", () => {
    expect(check("repokey-blake2", "hub", "secret")).not.toThrow();
    expect(check("repokey-blake2", "hub")).toThrow(/needs a passphrase/);
    expect(check("authenticated", "hub")).toThrow(/needs a passphrase/);
    expect(check("none", "hub")).not.toThrow();
    expect(check("none", "hub", "secret")).toThrow(/takes no passphrase/);
  });
  test("agent: the hub must never be sent the passphrase", () => {
    expect(check("repokey-blake2", "agent")).not.toThrow();
    expect(check("repokey-blake2", "agent", "secret")).toThrow(/agent keeps the passphrase/);
  });
});
