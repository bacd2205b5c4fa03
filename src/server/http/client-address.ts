/**
 * Who the client is, for the audit trail, the login and agent-credential throttles and the
 * Secure cookie decision. The TCP peer is the client, unless the peer is one of the
 * configured trusted proxies (`trusted_proxies`): then X-Forwarded-For names the client
 * and X-Forwarded-Proto the scheme it used. Headers from any other peer are ignored, since
 * anyone can send them; with no trusted proxies (the default) they are never read.
 *
 * X-Forwarded-For is read right to left: each trusted proxy appends the address it saw,
 * so the right-most address that is not itself a trusted proxy is the first one no proxy
 * of ours vouches for. Everything left of it was written by the client and is not used.
 */
import { BlockList, isIP } from "node:net";
import type { TrustedProxy } from "../../shared/config/hub.ts";

export interface ClientInfo {
  /** The client's address, or undefined when the server could not tell the peer. */
  ip?: string;
  /** The scheme a trusted proxy says the client used; undefined without a trusted proxy. */
  forwardedProto?: "http" | "https";
}

export type ProxyMatcher = (address: string) => boolean;

/** A matcher for the configured blocks; with none, nothing is trusted. */
export function trustedProxyMatcher(proxies: readonly TrustedProxy[]): ProxyMatcher {
  if (proxies.length === 0) return () => false;
  const list = new BlockList();
  for (const proxy of proxies) list.addSubnet(proxy.address, proxy.prefix, proxy.family);
  return (address) => {
    const normalized = normalizeAddress(address);
    if (normalized === undefined) return false;
    return list.check(normalized, isIP(normalized) === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * One address as a peer or a proxy reports it, in the form the audit trail keeps:
 * IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 peer) as plain IPv4, no zone id,
 * no brackets or port (some proxies write "192.0.2.1:5000" or "[2001:db8::1]:443").
 * Undefined when it is not an address at all.
 */
export function normalizeAddress(raw: string): string | undefined {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1] as string;
  else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(":"));
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) text = mapped[1] as string;
  const version = isIP(text);
  if (version === 0) return undefined;
  return version === 6 ? text.toLowerCase() : text;
}

/** The client behind one request, from its TCP peer and, through trusted proxies only, its headers. */
export function resolveClient(
  peer: string | undefined,
  headers: Headers,
  isTrustedProxy: ProxyMatcher,
): ClientInfo {
  const peerAddress = peer === undefined ? undefined : (normalizeAddress(peer) ?? peer);
  if (peerAddress === undefined || !isTrustedProxy(peerAddress)) return { ip: peerAddress };

  // Several X-Forwarded-For headers arrive joined with ", ", in order: one list.
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  let client = peerAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] as string);
    // Garbage ends the walk: the last address a trusted proxy vouched for stands.
    if (hop === undefined) break;
    client = hop;
    if (!isTrustedProxy(hop)) break;
  }

  // The nearest proxy's word counts, as for X-Forwarded-For: the right-most value.
  const proto = (headers.get("x-forwarded-proto") ?? "").split(",").pop()?.trim().toLowerCase();
  return {
    ip: client,
    ...(proto === "https" || proto === "http" ? { forwardedProto: proto } : {}),
  };
}

/** Whether the browser reached the hub over HTTPS: the hub's own TLS, or a trusted proxy's. */
export function reachedOverHttps(url: string, client: { forwardedProto?: string }): boolean {
  return url.startsWith("https:") || client.forwardedProto === "https";
}
