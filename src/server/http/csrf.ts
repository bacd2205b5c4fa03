/**
 * Cross-site request forgery protection for the session cookie. A browser attaches the
 * cookie by itself, so a cookie-authenticated request that changes something (POST, PUT,
 * PATCH, DELETE) must show that it comes from the hub's own pages:
 * - its Origin is the hub's: the request's own host (scheme too, when the hub knows the
 *   browser used https: its own TLS or a trusted proxy's X-Forwarded-Proto), or
 *   public_url's origin (for a proxy that rewrites Host). Without Origin, or with
 *   "null" (what a browser may send under Referrer-Policy: no-referrer, which the hub
 *   sets, for requests that aren't CORS-mode fetches), Sec-Fetch-Site: same-origin must
 *   say it instead. Both headers are set by the browser; a page cannot forge them. The
 *   UI's fetch() calls send the real Origin.
 * - a body, if any, is JSON (application/json). Forms can only send urlencoded, multipart
 *   or text/plain bodies, and a cross-site fetch with JSON needs a CORS preflight that
 *   this hub never grants.
 * SameSite=Strict already keeps the cookie off cross-site requests in current browsers;
 * this holds where it does not (older browsers, a sibling site on the same domain).
 *
 * Requests with `Authorization: Bearer …` (then requireUser ignores the cookie) and agent
 * runtime requests (X-Borg-Agent-Authorization; those routes never read the cookie) are
 * not cookie-authenticated and pass untouched: scripts, the CLI and agents are unaffected.
 * Login sets the cookie rather than using it; it is refused only when it carries an Origin
 * that is not the hub's (login CSRF: signing a victim's browser into the attacker's
 * account).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { AppError } from "../../shared/errors.ts";
import type { HubDeps } from "../deps.ts";
import { SESSION_COOKIE } from "./auth.ts";
import { reachedOverHttps } from "./client-address.ts";
import type { HubEnv } from "./context.ts";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const LOGIN_PATH = "/api/auth/login";

const crossSite = () =>
  new AppError(
    "forbidden",
    "cross-site request refused: its Origin is not this hub (if the hub is reached under another name, set public_url)",
  );

/** Whether a request uses the session cookie as its credential (mirrors bearerToken in auth.ts). */
function cookieAuthenticated(c: Context<HubEnv>): boolean {
  if (c.req.header("authorization")?.startsWith("Bearer ")) return false;
  if (c.req.header("x-borg-agent-authorization") !== undefined) return false;
  return getCookie(c, SESSION_COOKIE) !== undefined;
}

/** Whether `origin` (an Origin header) is the hub itself. */
function isHubOrigin(c: Context<HubEnv>, deps: HubDeps, origin: string): boolean {
  // "null" is an opaque origin (sandboxed frames, file: pages, no-referrer): not one we know.
  if (origin === "null") return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  if (deps.settings.publicOrigin !== undefined && url.origin === deps.settings.publicOrigin) {
    return true;
  }
  // The host the browser asked for (Host header), read with the Origin's scheme so that
  // default ports compare equal ("hub:443" and "https://hub").
  let requestHost: string;
  try {
    requestHost = new URL(`${url.protocol}//${new URL(c.req.url).host}`).host;
  } catch {
    return false;
  }
  if (url.host !== requestHost) return false;
  // Over plain HTTP the hub can't tell a TLS proxy it wasn't told about, so it can't
  // demand https; when it knows the browser used https, an http page is another origin.
  return url.protocol === "https:" || !reachedOverHttps(c.req.url, c.env ?? {});
}

/** The browser's own word that the request comes from a page of the hub's origin. */
const sameOriginFetch = (c: Context<HubEnv>) => c.req.header("sec-fetch-site") === "same-origin";

function assertFromHub(c: Context<HubEnv>, deps: HubDeps): void {
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") {
    if (!isHubOrigin(c, deps, origin)) throw crossSite();
    return;
  }
  if (sameOriginFetch(c)) return;
  if (origin === "null") throw crossSite();
  throw new AppError(
    "forbidden",
    "request refused: a browser request signed in by cookie must carry an Origin or Sec-Fetch-Site: same-origin header; scripts should use an API token (Authorization: Bearer)",
  );
}

function assertJsonBody(c: Context<HubEnv>): void {
  const contentType = c.req.header("content-type");
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  // No body and no content type (a plain POST/DELETE) is fine; any declared or sent body must be JSON.
  if (mediaType === undefined && c.req.raw.body === null) return;
  if (mediaType !== "application/json") {
    throw new AppError(
      "forbidden",
      `request refused: a request signed in by cookie must send its body as application/json, not ${mediaType ?? "an untyped body"}`,
    );
  }
}

/** Refuses a cookie-authenticated change that does not come from the hub's own pages. */
export function assertNotCrossSite(c: Context<HubEnv>, deps: HubDeps): void {
  if (!UNSAFE_METHODS.has(c.req.method)) return;
  if (c.req.path === LOGIN_PATH) {
    // Without Origin the caller is a script or the CLI (browsers send it on a POST).
    if (c.req.header("origin") !== undefined) assertFromHub(c, deps);
  } else if (cookieAuthenticated(c)) {
    assertFromHub(c, deps);
    assertJsonBody(c);
  }
}
