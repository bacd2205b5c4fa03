/**
 * Pinned host keys: parsed from what a user pastes (a .pub line or ssh-keyscan output),
 * stored as TYPE BASE64 only, and rendered by the agent for exactly one host.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  formatHostKeys,
  parseHostKeys,
  renderKnownHosts,
} from "../../../src/shared/ssh-host-keys.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/ssh-keys");
const pub = (name: string) => readFileSync(join(FIXTURES, `${name}.pub`), "utf8").trim();
const [edType, edBase64] = pub("ed25519").split(" ") as [string, string];
const [ecType, ecBase64] = pub("ecdsa-256").split(" ") as [string, string];

const keysOf = (input: string) => {
  const parsed = parseHostKeys(input);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.keys;
};

describe("parseHostKeys", () => {
  test("a .pub line and ssh-keyscan lines, comments and blank lines skipped", () => {
    const text = `# box.example.com\n${pub("ed25519")}\n\n[box.example.com]:2222 ${ecType} ${ecBase64}\r\n`;
    expect(formatHostKeys(keysOf(text))).toBe(`${edType} ${edBase64}\n${ecType} ${ecBase64}`);
  });

  test("markers, options, broken keys and empty input are refused, naming the line", () => {
    const refusal = (input: string) => {
      const parsed = parseHostKeys(input);
      return parsed.ok ? "accepted" : parsed.reason;
    };
    expect(refusal(`@cert-authority * ${edType} ${edBase64}`)).toContain("@cert-authority");
    expect(refusal(`${pub("ed25519")}\n@revoked * ${edType} ${edBase64}`)).toStartWith("line 2:");
    expect(refusal(`${edType} ${edBase64.slice(0, -4)}`)).toContain(
      "paste the line from the .pub file",
    );
    // Whatever stands in a known_hosts line's host field is dropped, never kept.
    expect(formatHostKeys(keysOf(`command="id",* ${edType} ${edBase64}`))).toBe(
      `${edType} ${edBase64}`,
    );
    expect(refusal("\n# nothing\n")).toBe("holds no host key");
  });
});

describe("renderKnownHosts", () => {
  test("the host of the location, bracketed with a port other than 22", () => {
    const keys = keysOf(`* ${edType} ${edBase64} evil-comment`);
    expect(renderKnownHosts(keys, "box.example.com", undefined)).toBe(
      `box.example.com ${edType} ${edBase64}\n`,
    );
    expect(renderKnownHosts(keys, "box.example.com", 22)).toStartWith("box.example.com ");
    expect(renderKnownHosts(keys, "127.0.0.1", 2222)).toStartWith("[127.0.0.1]:2222 ");
    expect(renderKnownHosts(keys, "::1", 2222)).toStartWith("[::1]:2222 ");
  });
});
