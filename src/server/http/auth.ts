/**
 * User authentication for the /api routes: a session or API token as
 * `Authorization: Bearer …`, or the session cookie the UI gets at login. requireUser(min)
 * answers 401 without valid credentials and 403 when the role is too low. Agent
 * credentials are never accepted here (they are checked by the agent runtime routes).
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { AppError } from "../../shared/errors.ts";
import type { Role } from "../../shared/protocol/api.ts";
import type { HubDeps } from "../deps.ts";
import { authenticate, roleAtLeast } from "../services/auth.ts";
import type { HubEnv } from "./context.ts";

export const SESSION_COOKIE = "borgctl_session";

export function bearerToken(c: Context<HubEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  return getCookie(c, SESSION_COOKIE);
}

export function requireUser(deps: HubDeps, min: Role = "viewer"): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    const principal = token ? await authenticate(deps, token) : undefined;
    if (!principal)
      throw new AppError("unauthorized", "sign in first: missing, expired or unknown credentials");
    if (!roleAtLeast(principal.role, min)) {
      throw new AppError("forbidden", `this needs the ${min} role; you are ${principal.role}`);
    }
    c.set("principal", principal);
    await next();
  };
}
