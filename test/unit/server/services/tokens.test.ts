import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  hashToken,
  newPublicId,
  newToken,
  tokenKind,
} from "../../../../src/server/services/tokens.ts";

describe("tokens", () => {
  test("typed, random, stored as a hash with a short prefix", () => {
    const a = newToken("agent");
    const b = newToken("agent");
    expect(a.token).toMatch(/^borgctl_agent_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toBe(hashToken(a.token));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.prefix).toBe(a.token.slice(0, "borgctl_agent_".length + 6));
  });

  test("the hash is SHA-256 of the token's UTF-8 bytes, hex: hashes already stored keep matching", () => {
    expect(hashToken("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(hashToken("é")).toBe(createHash("sha256").update("é", "utf8").digest("hex"));
  });

  test("the kind is read from the prefix, so kinds are never confused", () => {
    expect(tokenKind(newToken("session").token)).toBe("session");
    expect(tokenKind(newToken("enroll").token)).toBe("enroll");
    expect(tokenKind("Bearer something")).toBeUndefined();
    expect(newPublicId("agt")).toMatch(/^agt_[A-Za-z0-9_-]{16}$/);
  });
});
