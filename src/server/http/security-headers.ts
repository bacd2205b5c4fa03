/**
 * Security headers on every hub response. The CSP allows only same-origin scripts,
 * styles and connections (the UI has no inline script or style and loads nothing from
 * elsewhere); framing is refused; no Referer leaves the hub.
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

export function securityHeaders(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
  };
}
