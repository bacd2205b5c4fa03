import { describe, expect, test } from "bun:test";
import { borg2BetaNumber, isAtLeast, parseBorgVersion } from "../../../src/borg/version.ts";

describe("parseBorgVersion", () => {
  test.each([
    ["borg 1.2.4\n", { major: 1, minor: 2, patch: 4, raw: "1.2.4" }],
    ["borg 1.4.0", { major: 1, minor: 4, patch: 0, raw: "1.4.0" }],
    ["borg2 2.0.0b5\n", { major: 2, minor: 0, patch: 0, pre: "b5", raw: "2.0.0b5" }],
    ["borg 2.0.0b17", { major: 2, minor: 0, patch: 0, pre: "b17", raw: "2.0.0b17" }],
    ["borg-linux64 1.2.8", { major: 1, minor: 2, patch: 8, raw: "1.2.8" }],
    [
      "borg 1.4.1.dev3+g1a2b3c",
      { major: 1, minor: 4, patch: 1, pre: ".dev3+g1a2b3c", raw: "1.4.1.dev3+g1a2b3c" },
    ],
    ["borg 1.4.0-rc1", { major: 1, minor: 4, patch: 0, pre: "rc1", raw: "1.4.0-rc1" }],
    ["\nsome warning\nborg 1.2.4\n", { major: 1, minor: 2, patch: 4, raw: "1.2.4" }],
  ])("%j", (stdout, expected) => {
    expect(parseBorgVersion(stdout)).toEqual(expected as never);
  });

  test.each([
    "",
    "Python 3.11.2",
    "borg 3.0.0",
    "borg 0.30.0",
    "borg version unknown",
    "usage: borg [-V] [-h]",
  ])("not a borg we know: %j", (stdout) => {
    expect(parseBorgVersion(stdout)).toBeUndefined();
  });

  test("the captured output of borg 1.2.4 and 2.0.0b5", async () => {
    const dir = `${import.meta.dir}/../../fixtures/borg`;
    expect(parseBorgVersion(await Bun.file(`${dir}/1.2.4/version.stdout`).text())?.raw).toBe(
      "1.2.4",
    );
    expect(parseBorgVersion(await Bun.file(`${dir}/2.0.0b5/version.stdout`).text())?.pre).toBe(
      "b5",
    );
  });
});

const v = (text: string) => {
  const version = parseBorgVersion(`borg ${text}`);
  if (!version) throw new Error(`bad test version ${text}`);
  return version;
};

describe("borg2BetaNumber", () => {
  test.each([
    ["2.0.0b5", 5],
    ["2.0.0b10", 10],
    ["2.0.0a3", 0],
    ["2.0.0.dev1", 0],
    ["2.0.0rc1", undefined],
    ["2.0.0", undefined],
    ["2.1.0b1", undefined],
    ["1.4.0", undefined],
  ])("%s → %p", (text, expected) => {
    expect(borg2BetaNumber(v(text))).toBe(expected);
  });
});

describe("isAtLeast", () => {
  test("compares major, then minor", () => {
    expect(isAtLeast(v("1.2.4"), 1, 2)).toBe(true);
    expect(isAtLeast(v("1.1.18"), 1, 2)).toBe(false);
    expect(isAtLeast(v("1.4.0"), 1, 4)).toBe(true);
    expect(isAtLeast(v("2.0.0b5"), 1, 4)).toBe(true);
    expect(isAtLeast(v("1.4.0"), 2, 0)).toBe(false);
  });
});
