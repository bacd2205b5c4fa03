import { describe, expect, test } from "bun:test";
import { auditActions, auditDetails } from "../../../src/ui/audit-view.ts";

describe("auditDetails", () => {
  test("compact JSON for details; a dash for none or an empty object", () => {
    expect(auditDetails({ fields: ["name", "source_paths"] })).toBe(
      '{"fields":["name","source_paths"]}',
    );
    expect(auditDetails(null)).toBe("–");
    expect(auditDetails({})).toBe("–");
  });
});

describe("auditActions", () => {
  test("each action once, sorted", () => {
    expect(
      auditActions([
        { action: "auth.login" },
        { action: "agent.register" },
        { action: "auth.login" },
      ]),
    ).toEqual(["agent.register", "auth.login"]);
  });
});
