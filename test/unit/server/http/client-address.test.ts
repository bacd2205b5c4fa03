import { describe, expect, test } from "bun:test";
import {
  normalizeAddress,
  reachedOverHttps,
  resolveClient,
  trustedProxyMatcher,
} from "../../../../src/server/http/client-address.ts";
import { parseTrustedProxy, type TrustedProxy } from "../../../../src/shared/config/hub.ts";

const proxies = (...entries: string[]): TrustedProxy[] =>
  entries.map((entry) => {
    const parsed = parseTrustedProxy(entry);
    if (!parsed) throw new Error(`bad test entry ${entry}`);
    return parsed;
  });

const headers = (values: Record<string, string>) => new Headers(values);

describe("parseTrustedProxy", () => {
  test("addresses and CIDR blocks, IPv4 and IPv6", () => {
    expect(parseTrustedProxy("10.0.0.0/8")).toEqual({
      family: "ipv4",
      address: "10.0.0.0",
      prefix: 8,
    });
    expect(parseTrustedProxy(" 192.0.2.7 ")).toEqual({
      family: "ipv4",
      address: "192.0.2.7",
      prefix: 32,
    });
    expect(parseTrustedProxy("fd00::/8")).toEqual({ family: "ipv6", address: "fd00::", prefix: 8 });
    expect(parseTrustedProxy("::1")).toEqual({ family: "ipv6", address: "::1", prefix: 128 });
    // IPv4-mapped means the IPv4 block.
    expect(parseTrustedProxy("::ffff:10.1.2.3")).toEqual({
      family: "ipv4",
      address: "10.1.2.3",
      prefix: 32,
    });
  });

  test("anything else is refused", () => {
    for (const bad of [
      "",
      "proxy.example.com",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/8/8",
      "10.0.0.0/-1",
      "256.0.0.1",
      "fe80::1%eth0",
      "10.0.0.1:80",
    ]) {
      expect(parseTrustedProxy(bad)).toBeUndefined();
    }
  });
});

describe("normalizeAddress", () => {
  test("IPv4-mapped, zone ids, brackets and ports are reduced to the address", () => {
    expect(normalizeAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("::FFFF:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(normalizeAddress("[2001:DB8::1]:443")).toBe("2001:db8::1");
    expect(normalizeAddress("192.0.2.1:5000")).toBe("192.0.2.1");
    expect(normalizeAddress(" 192.0.2.1 ")).toBe("192.0.2.1");
    expect(normalizeAddress("unknown")).toBeUndefined();
    expect(normalizeAddress("")).toBeUndefined();
  });
});

describe("trustedProxyMatcher", () => {
  test("matches blocks of both families, IPv4 peers seen through a dual-stack socket too", () => {
    const trusted = trustedProxyMatcher(proxies("10.0.0.0/8", "192.0.2.7", "fd00::/8"));
    expect(trusted("10.200.3.4")).toBe(true);
    expect(trusted("::ffff:10.200.3.4")).toBe(true);
    expect(trusted("11.0.0.1")).toBe(false);
    expect(trusted("192.0.2.7")).toBe(true);
    expect(trusted("192.0.2.8")).toBe(false);
    expect(trusted("fd12:3456::1")).toBe(true);
    expect(trusted("fe80::1")).toBe(false);
    expect(trusted("not an address")).toBe(false);
  });

  test("no entries trust nobody", () => {
    const trusted = trustedProxyMatcher([]);
    expect(trusted("127.0.0.1")).toBe(false);
    expect(trusted("::1")).toBe(false);
  });
});

describe("resolveClient", () => {
  const trusted = trustedProxyMatcher(proxies("10.0.0.0/8", "::1"));

  test("an untrusted peer is the client; its forwarding headers are ignored", () => {
    expect(
      resolveClient(
        "198.51.100.9",
        headers({ "x-forwarded-for": "192.0.2.1", "x-forwarded-proto": "https" }),
        trusted,
      ),
    ).toEqual({ ip: "198.51.100.9" });
    expect(
      resolveClient(
        "127.0.0.1",
        headers({ "x-forwarded-for": "192.0.2.1" }),
        trustedProxyMatcher([]),
      ),
    ).toEqual({ ip: "127.0.0.1" });
    expect(resolveClient(undefined, headers({ "x-forwarded-for": "192.0.2.1" }), trusted)).toEqual({
      ip: undefined,
    });
  });

  test("through trusted proxies: the right-most address that is not a proxy", () => {
    // The client wrote "6.6.6.6" itself; our proxies appended what they saw.
    const chain = headers({ "x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.0.0.2" });
    expect(resolveClient("10.0.0.1", chain, trusted)).toEqual({ ip: "203.0.113.5" });
    // Several headers are one list.
    const split = new Headers();
    split.append("x-forwarded-for", "6.6.6.6");
    split.append("x-forwarded-for", "203.0.113.5");
    expect(resolveClient("::1", split, trusted)).toEqual({ ip: "203.0.113.5" });
    // IPv4 peers on a dual-stack socket and IPv6 clients.
    expect(
      resolveClient(
        "::ffff:10.0.0.1",
        headers({ "x-forwarded-for": "[2001:db8::7]:51000" }),
        trusted,
      ),
    ).toEqual({ ip: "2001:db8::7" });
  });

  test("no header, only proxies, or garbage: the last address a trusted proxy vouched for", () => {
    expect(resolveClient("10.0.0.1", headers({}), trusted)).toEqual({ ip: "10.0.0.1" });
    expect(
      resolveClient("10.0.0.1", headers({ "x-forwarded-for": "10.0.0.9, 10.0.0.2" }), trusted),
    ).toEqual({ ip: "10.0.0.9" });
    expect(
      resolveClient(
        "10.0.0.1",
        headers({ "x-forwarded-for": "203.0.113.5, evil, 10.0.0.2" }),
        trusted,
      ),
    ).toEqual({ ip: "10.0.0.2" });
    expect(resolveClient("10.0.0.1", headers({ "x-forwarded-for": "unknown" }), trusted)).toEqual({
      ip: "10.0.0.1",
    });
  });

  test("X-Forwarded-Proto from a trusted proxy: its right-most http or https", () => {
    const via = (proto: string) =>
      resolveClient("10.0.0.1", headers({ "x-forwarded-proto": proto }), trusted).forwardedProto;
    expect(via("https")).toBe("https");
    expect(via("HTTPS")).toBe("https");
    expect(via("http")).toBe("http");
    expect(via("https, http")).toBe("http");
    expect(via("gopher")).toBeUndefined();
  });
});

describe("reachedOverHttps", () => {
  test("the hub's own TLS or a trusted proxy's https", () => {
    expect(reachedOverHttps("https://hub:8443/api", {})).toBe(true);
    expect(reachedOverHttps("http://hub:8080/api", { forwardedProto: "https" })).toBe(true);
    expect(reachedOverHttps("http://hub:8080/api", { forwardedProto: "http" })).toBe(false);
    expect(reachedOverHttps("http://hub:8080/api", {})).toBe(false);
  });
});
