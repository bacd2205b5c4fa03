import { describe, expect, test } from "bun:test";
import { secureEqual } from "../../../src/shared/secure-compare.ts";

describe("secureEqual", () => {
  test("equal only for the same string, whatever the lengths", () => {
    expect(secureEqual("token-123", "token-123")).toBe(true);
    expect(secureEqual("token-124", "token-123")).toBe(false);
    expect(secureEqual("token-1234", "token-123")).toBe(false);
    expect(secureEqual("", "token-123")).toBe(false);
    expect(secureEqual("ü", "u")).toBe(false);
  });
});
