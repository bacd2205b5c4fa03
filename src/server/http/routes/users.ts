/** /api/users (admin) and /api/tokens (each user's own API tokens; admins may revoke any). */
import type { Hono } from "hono";
import {
  CreateApiTokenRequest,
  CreateUserRequest,
  UpdateUserRequest,
} from "../../../shared/protocol/api.ts";
import type { ApiTokenRow, UserRow } from "../../db/records.ts";
import type { HubDeps } from "../../deps.ts";
import {
  createApiToken,
  createUser,
  deleteUser,
  listApiTokens,
  listUsers,
  revokeApiToken,
  updateUser,
} from "../../services/auth.ts";
import { toIso, toIsoOrNull } from "../../services/time.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

export const userJson = (u: Pick<UserRow, "id" | "username" | "role" | "createdAt">) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  created_at: toIso(u.createdAt),
});

const tokenJson = (t: ApiTokenRow) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  token_prefix: t.tokenPrefix,
  created_at: toIso(t.createdAt),
  expires_at: toIsoOrNull(t.expiresAt),
  last_used_at: toIsoOrNull(t.lastUsedAt),
});

export function userRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const admin = requireUser(deps, "admin");
  app.get("/api/users", admin, async (c) => c.json((await listUsers(deps)).map(userJson)));
  app.post("/api/users", admin, validate("json", CreateUserRequest), async (c) =>
    c.json(userJson(await createUser(deps, actorOf(c), c.req.valid("json"))), 201),
  );
  app.patch("/api/users/:id", admin, validate("json", UpdateUserRequest), async (c) =>
    c.json(
      userJson(
        await updateUser(deps, actorOf(c), idParam(c.req.param("id"), "user"), c.req.valid("json")),
      ),
    ),
  );
  app.delete("/api/users/:id", admin, async (c) => {
    await deleteUser(deps, actorOf(c), idParam(c.req.param("id"), "user"));
    return c.body(null, 204);
  });

  const anyone = requireUser(deps, "viewer");
  app.get("/api/tokens", anyone, async (c) =>
    c.json((await listApiTokens(deps, actorOf(c))).map(tokenJson)),
  );
  app.post("/api/tokens", anyone, validate("json", CreateApiTokenRequest), async (c) => {
    const { row, token } = await createApiToken(deps, actorOf(c), c.req.valid("json"));
    return c.json({ ...tokenJson(row), token }, 201);
  });
  app.delete("/api/tokens/:id", anyone, async (c) => {
    await revokeApiToken(deps, actorOf(c), idParam(c.req.param("id"), "api token"));
    return c.body(null, 204);
  });
}
