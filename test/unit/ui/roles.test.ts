import { describe, expect, test } from "bun:test";
import { roleRank, rolesUpTo } from "../../../src/ui/roles.ts";

describe("roles offered for a token", () => {
  test("admin outranks operator outranks viewer", () => {
    expect(roleRank("admin")).toBeGreaterThan(roleRank("operator"));
    expect(roleRank("operator")).toBeGreaterThan(roleRank("viewer"));
  });

  test("each role may hand out itself and the ones below, strongest first", () => {
    expect(rolesUpTo("admin")).toEqual(["admin", "operator", "viewer"]);
    expect(rolesUpTo("operator")).toEqual(["operator", "viewer"]);
    expect(rolesUpTo("viewer")).toEqual(["viewer"]);
  });
});
