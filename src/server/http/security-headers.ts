/**
 * Security headers on every hub response. The CSP allows only same-origin scripts,
 * styles and connections (the UI has no inline script or style and loads nothing from
 * elsewhere); framing is refused; no Referer leaves the hub.
 *
 * They are set before the route runs, so the answer is built with them (c.json, c.body
 * and onError all start from the headers prepared on the context). Setting a header after
 * the answer exists makes Hono copy the whole Response once per header, which was the
 * largest single cost of an agent's poll; only an answer that a route built as a Response
 * of its own (the UI's assets) lacks them afterwards and gets them then.
 */
import type { MiddlewareHandler } from "hono";
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

export function securityHeaders(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
    await next();
    if (!c.res.headers.has("Content-Security-Policy")) {
      for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
    }
  };
}
