import { describe, expect, test } from "bun:test";
import { displayUrl, parseListenAddr } from "../../../../src/shared/config/addr.ts";

describe("parseListenAddr", () => {
  test.each([
    [":9999", { hostname: "0.0.0.0", port: 9999 }],
    ["127.0.0.1:8080", { hostname: "127.0.0.1", port: 8080 }],
    ["[::1]:0", { hostname: "::1", port: 0 }],
    ["localhost:65535", { hostname: "localhost", port: 65535 }],
  ])("%s", (text, expected) => {
    expect(parseListenAddr(text)).toEqual(expected);
  });

  test.each(["9999", "host:", "host:65536", "a b:1", "[zz]:1", ""])("refuses %p", (text) => {
    expect(parseListenAddr(text)).toBeUndefined();
  });

  test("displayUrl names a reachable host", () => {
    expect(displayUrl({ hostname: "0.0.0.0", port: 9999 })).toBe("http://localhost:9999");
    expect(displayUrl({ hostname: "::1", port: 1 })).toBe("http://[::1]:1");
  });
});
