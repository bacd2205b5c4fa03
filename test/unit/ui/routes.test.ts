import { describe, expect, test } from "bun:test";
import { parseRoute } from "../../../src/ui/routes.ts";

describe("parseRoute", () => {
  test("every page by path, trailing slashes ignored", () => {
    expect(parseRoute("/")).toEqual({ page: "dashboard" });
    expect(parseRoute("/machines/")).toEqual({ page: "machines" });
    expect(parseRoute("/repositories")).toEqual({ page: "repositories" });
    expect(parseRoute("/jobs")).toEqual({ page: "jobs" });
    expect(parseRoute("/jobs/42")).toEqual({ page: "job", id: 42 });
    expect(parseRoute("/repositories/7/")).toEqual({ page: "repository", id: 7 });
    expect(parseRoute("/login")).toEqual({ page: "login" });
    expect(parseRoute("/settings/")).toEqual({ page: "settings" });
    expect(parseRoute("/audit")).toEqual({ page: "audit" });
  });
  test("anything else is not found, including bad job ids", () => {
    expect(parseRoute("/jobs/0")).toEqual({ page: "not_found", path: "/jobs/0" });
    expect(parseRoute("/jobs/abc")).toEqual({ page: "not_found", path: "/jobs/abc" });
    expect(parseRoute("/repositories/0")).toEqual({ page: "not_found", path: "/repositories/0" });
    expect(parseRoute("/settings/x")).toEqual({ page: "not_found", path: "/settings/x" });
  });
});
