import { describe, expect, test } from "bun:test";
import { canAdminister, canRunJobs, roleRank, rolesUpTo } from "../../../src/ui/roles.ts";

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

describe("what a role sees", () => {
  test("operators and admins run jobs; viewers and the not-yet-loaded do not", () => {
    expect(canRunJobs("admin")).toBe(true);
    expect(canRunJobs("operator")).toBe(true);
    expect(canRunJobs("viewer")).toBe(false);
    expect(canRunJobs(undefined)).toBe(false);
  });

  test("only admins create, edit and delete", () => {
    expect(canAdminister("admin")).toBe(true);
    expect(canAdminister("operator")).toBe(false);
    expect(canAdminister("viewer")).toBe(false);
  });
});
