import { describe, expect, test } from "bun:test";
import {
  ancestorsOf,
  globToLike,
  splitMemberPath,
} from "../../../../src/server/services/archive-browse.ts";

describe("member paths on the hub", () => {
  test("split into directory and name; ancestors as placeholders", () => {
    expect(splitMemberPath("a/b/c")).toEqual({ parent: "a/b", name: "c" });
    expect(splitMemberPath("a")).toEqual({ parent: "", name: "a" });
    expect(ancestorsOf("a/b/c")).toEqual([
      { parent: "", name: "a" },
      { parent: "a", name: "b" },
    ]);
    expect(ancestorsOf("a")).toEqual([]);
  });

  test("a glob becomes a LIKE pattern with LIKE's own characters escaped", () => {
    expect(globToLike("*.pdf")).toEqual({ like: "%.pdf", onPath: false });
    expect(globToLike("report-?.txt")).toEqual({ like: "report-_.txt", onPath: false });
    expect(globToLike("100%_\\")).toEqual({ like: "100\\%\\_\\\\", onPath: false });
    expect(globToLike("/home/*/notes")).toEqual({ like: "home/%/notes", onPath: true });
  });
});
