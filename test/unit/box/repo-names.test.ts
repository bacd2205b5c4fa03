import { describe, expect, test } from "bun:test";
import path from "node:path";
import { REPO_NAME_RE, resolveRepoPath, validateRepoName } from "../../../src/box/repo-names.ts";
import { AppError } from "../../../src/shared/errors.ts";

function validationError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("validation_failed");
    return e as AppError;
  }
  throw new Error("expected a validation_failed AppError");
}

describe("validateRepoName", () => {
  test.each(["a", "0", "mac", "my-laptop-2", "a".repeat(63), "9-"])("accepts %p", (name) => {
    expect(validateRepoName(name)).toBe(name);
    expect(REPO_NAME_RE.test(name)).toBe(true);
  });

  test.each([
    "",
    "-a",
    "A",
    "Mac",
    "a_b",
    "a.b",
    ".",
    "..",
    "a/b",
    "../etc",
    "a b",
    "a\n",
    "a\0",
    "a".repeat(64),
    "ä",
  ])("rejects %p with the rule in the message", (name) => {
    const err = validationError(() => validateRepoName(name));
    expect(err.message).toContain("lowercase letters, digits and '-'");
    expect(err.message).toContain("1-63");
  });

  test.each([[undefined], [null], [42], [{}], [["a"]]])("rejects non-string %p", (value) => {
    validationError(() => validateRepoName(value));
  });
});

describe("resolveRepoPath", () => {
  test("joins a valid name to the absolute root", () => {
    expect(resolveRepoPath("/srv/repos", "mac")).toBe("/srv/repos/mac");
  });

  test("makes a relative root absolute", () => {
    expect(resolveRepoPath("repos", "mac")).toBe(path.resolve("repos", "mac"));
  });

  test("normalises a root with a trailing slash or dot segments", () => {
    expect(resolveRepoPath("/srv/repos/", "mac")).toBe("/srv/repos/mac");
    expect(resolveRepoPath("/srv/x/../repos", "mac")).toBe("/srv/repos/mac");
  });

  test("works at the filesystem root", () => {
    expect(resolveRepoPath("/", "mac")).toBe("/mac");
  });

  test.each(["..", ".", "a/../../b", "../x", "/etc"])("refuses %p", (name) => {
    validationError(() => resolveRepoPath("/srv/repos", name));
  });
});
