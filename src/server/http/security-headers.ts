/**
 * Security headers on every hub response. The CSP allows only same-origin scripts,
 * styles and connections (the UI has no inline script or style and loads nothing from
 * elsewhere); framing is refused; no Referer leaves the hub.
 *
 * They are set on the finished answer's own headers. Hono's c.header() on a finished
 * answer copies the whole Response once per header (that was the largest single cost of
 * an agent's poll), and preparing them before the route would hold a Headers object for
 * every parked long poll; only an answer whose headers can't be changed (none of the
 * hub's today) takes c.header()'s copy.
 */
import type { Context } from "hono";
import type { HubEnv } from "./context.ts";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Content-Security-Policy", CONTENT_SECURITY_POLICY],
  ["X-Content-Type-Options", "nosniff"],
  ["Referrer-Policy", "no-referrer"],
  ["X-Frame-Options", "DENY"],
];

/** Puts the headers on the answer the route (or onError) made. */
export function applySecurityHeaders(c: Context<HubEnv>): void {
  const headers = c.res.headers;
  try {
    for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  } catch {
    // Immutable headers (a Response straight from fetch()): a copy that takes them.
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
  }
}
