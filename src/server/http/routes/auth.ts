/**
 * /api/auth: login (token + HttpOnly SameSite=Strict cookie), logout, who am I. The
 * cookie is Secure whenever the browser reached the hub over https: the hub's own TLS,
 * an https public_url, or a trusted proxy's X-Forwarded-Proto. (Cross-origin logins are
 * refused by csrf.ts.)
 */
import type { Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { LoginRequest } from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import { login, logout } from "../../services/auth.ts";
import { toIso } from "../../services/time.ts";
import { actorOf } from "../actor.ts";
import { requireUser, SESSION_COOKIE } from "../auth.ts";
import { reachedOverHttps } from "../client-address.ts";
import type { HubEnv } from "../context.ts";
import { validate } from "../validate.ts";
import { userJson } from "./users.ts";

export function authRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const secure = (c: Context<HubEnv>) =>
    deps.settings.secureCookies || reachedOverHttps(c.req.url, c.env ?? {});

  app.post("/api/auth/login", validate("json", LoginRequest), async (c) => {
    const body = c.req.valid("json");
    const result = await login(deps, { ...body, ip: c.env?.ip ?? "unknown" });
    setCookie(c, SESSION_COOKIE, result.token, {
      httpOnly: true,
      sameSite: "Strict",
      secure: secure(c),
      path: "/",
      expires: new Date(result.expiresAt),
    });
    return c.json({
      token: result.token,
      user: userJson(result.user),
      expires_at: toIso(result.expiresAt),
    });
  });

  app.post("/api/auth/logout", requireUser(deps), async (c) => {
    await logout(deps, actorOf(c));
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secure(c) });
    return c.body(null, 204);
  });

  app.get("/api/auth/me", requireUser(deps), (c) => {
    const p = c.get("principal");
    return c.json({
      id: p.userId,
      username: p.username,
      role: p.role,
      via: p.via,
      // What "Add machine" puts in its commands, so agents reach the hub by its public name.
      public_url: deps.settings.publicOrigin ?? null,
    });
  });
}
