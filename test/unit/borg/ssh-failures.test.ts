/** ssh's own words for a host key that does not match the pinned one (OpenSSH 9.2). */
import { describe, expect, test } from "bun:test";
import { isSshHostKeyMismatch } from "../../../src/borg/ssh-failures.ts";

describe("isSshHostKeyMismatch", () => {
  test("a changed key, or no pinned key of the offered type", () => {
    expect(
      isSshHostKeyMismatch([
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
        "Host key verification failed.",
      ]),
    ).toBe(true);
    expect(
      isSshHostKeyMismatch([
        "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.",
        "Host key verification failed.",
      ]),
    ).toBe(true);
  });

  test("other connection failures are not a host key mismatch", () => {
    expect(isSshHostKeyMismatch(["Permission denied (publickey)."])).toBe(false);
    expect(
      isSshHostKeyMismatch(["Connection closed by remote host. Is borg working on the server?"]),
    ).toBe(false);
    expect(isSshHostKeyMismatch([])).toBe(false);
  });
});
