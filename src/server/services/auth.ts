/**
 * People: the first admin, login/logout, bearer credentials, users and API tokens.
 * Passwords are argon2id (Bun.password).
 *
 * Login throttling must slow guessing down without letting anyone lock a person out, so
 * it keeps three failure counters (one FailureThrottle, keys in loginThrottleKeys):
 * - per address: past LOGIN_FAILURE_LIMIT failures, that address gets 429 for any user
 *   (one address spraying many usernames);
 * - per address+user: past LOGIN_FAILURE_LIMIT_PER_USER failures, that address gets 429
 *   for that user (one address guessing one account);
 * - per user: never refuses; it only makes each further *wrong* answer for that user wait
 *   longer, from any address. The wait comes after the password is checked, so the
 *   right password never waits and never sees a 429 from this counter.
 * So someone who sends wrong passwords for `admin` from their own addresses exhausts only
 * those addresses: the admin signing in from another address gets in at once. Guessing
 * from many addresses in parallel is bounded by the argon2id cost of every check and by
 * each address's own limit; refusing per user would bound it harder but would hand the
 * lockout to the attacker.
 * A success clears the address+user and user counters but not the address one, or a
 * user could sign in to their own account between guesses at another to reset it.
 * An unknown user costs the same time as a wrong password (a real argon2id check against
 * a dummy hash, the same counters), so usernames can't be probed. Every failure and every
 * refusal is in the audit trail. Behind a reverse proxy the address is the client's only
 * when the proxy is in trusted_proxies (http/client-address.ts); otherwise every client
 * shares the proxy's address and its per-address limit.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../../shared/errors.ts";
import type { Role } from "../../shared/protocol/api.ts";
import type { HubDeps } from "../deps.ts";
import { SYSTEM, type UserActor, type UserCredential } from "./actor.ts";
import { audit } from "./audit.ts";
import { hashToken, newToken, tokenKind } from "./tokens.ts";

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
export const roleAtLeast = (role: Role, min: Role) => ROLE_RANK[role] >= ROLE_RANK[min];

/** Past this many failures in the throttle window, logins from that address get 429. */
export const LOGIN_FAILURE_LIMIT = 20;
/** Past this many failures in the window, logins for that user from that address get 429. */
export const LOGIN_FAILURE_LIMIT_PER_USER = 10;

/** The login throttle's keys for one attempt (an address holds no spaces, so they can't collide). */
export function loginThrottleKeys(ip: string, username: string) {
  return {
    address: `ip:${ip}`,
    addressUser: `ip+user:${ip} ${username}`,
    user: `user:${username}`,
  };
}

// A real argon2id hash of a random string: verifying against it takes as long as a real check.
let dummyHash: Promise<string> | undefined;
const timingDummy = () => {
  dummyHash ??= Bun.password.hash(randomBytes(16).toString("hex"));
  return dummyHash;
};

export const hashPassword = (password: string) =>
  Bun.password.hash(password, { algorithm: "argon2id" });

/** Creates user `admin` on an empty database; returns the password when it was generated. */
export async function bootstrapAdmin(
  deps: HubDeps,
  configuredPassword: string | undefined,
): Promise<{ created: boolean; generatedPassword?: string }> {
  if ((await deps.store.users.count()) > 0) return { created: false };
  const password = configuredPassword ?? randomBytes(18).toString("base64url");
  const created = await deps.store.users.insert({
    username: "admin",
    passwordHash: await hashPassword(password),
    role: "admin",
  });
  if (!created) return { created: false }; // another hub process won the race
  await audit(deps, { actor: SYSTEM, action: "user.bootstrap", target: `user:${created.id}` });
  return configuredPassword ? { created: true } : { created: true, generatedPassword: password };
}

export async function login(
  deps: HubDeps,
  request: { username: string; password: string; ip: string },
): Promise<{
  token: string;
  user: { id: number; username: string; role: Role; createdAt: number };
  expiresAt: number;
}> {
  const keys = loginThrottleKeys(request.ip, request.username);
  const throttle = deps.loginThrottle;
  // Only counters this address built up can refuse it; the per-user one only slows.
  if (
    throttle.failures(keys.address) >= LOGIN_FAILURE_LIMIT ||
    throttle.failures(keys.addressUser) >= LOGIN_FAILURE_LIMIT_PER_USER
  ) {
    await audit(deps, {
      actor: "anonymous",
      action: "auth.login_blocked",
      ip: request.ip,
      details: { username: request.username },
    });
    throw new AppError("rate_limited", "too many failed logins; wait a minute and try again");
  }
  const user = await deps.store.users.byUsername(request.username);
  const ok = await Bun.password.verify(
    request.password,
    user?.passwordHash ?? (await timingDummy()),
  );
  if (!user || !ok) {
    const delay = Math.max(
      throttle.recordFailure(keys.address),
      throttle.recordFailure(keys.addressUser),
      throttle.recordFailure(keys.user),
    );
    await audit(deps, {
      actor: "anonymous",
      action: "auth.login_failed",
      ip: request.ip,
      details: { username: request.username },
    });
    if (delay > 0) await deps.sleep(delay);
    throw new AppError("unauthorized", "wrong username or password");
  }
  throttle.recordSuccess(keys.addressUser);
  throttle.recordSuccess(keys.user);
  const { token, hash, prefix } = newToken("session");
  const expiresAt = deps.clock() + deps.settings.sessionTtlMs;
  const session = await deps.store.sessions.insert({
    userId: user.id,
    tokenHash: hash,
    tokenPrefix: prefix,
    expiresAt,
  });
  // The user, signed in by the session just made.
  const actor: UserActor = {
    kind: "user",
    userId: user.id,
    username: user.username,
    role: user.role,
    via: "session",
    credentialId: session.id,
    ip: request.ip,
  };
  await audit(deps, {
    actor,
    action: "auth.login",
    ip: request.ip,
  });
  return { token, user, expiresAt };
}

/** The user behind a session or API token; undefined for anything else (agent or enrollment tokens included). */
export async function authenticate(
  deps: HubDeps,
  token: string,
): Promise<UserCredential | undefined> {
  const kind = tokenKind(token);
  if (kind !== "session" && kind !== "api") return undefined;
  const now = deps.clock();
  const match =
    kind === "session"
      ? await deps.store.sessions.match(hashToken(token), now)
      : await deps.store.apiTokens.match(hashToken(token), now);
  if (!match) return undefined;
  // An API token never grants more than its user has now (the user may have been demoted).
  const role = roleAtLeast(match.userRole, match.role) ? match.role : match.userRole;
  return {
    userId: match.userId,
    username: match.username,
    role,
    via: kind === "session" ? "session" : "api_token",
    credentialId: match.credentialId,
  };
}

export async function logout(deps: HubDeps, actor: UserActor): Promise<void> {
  if (actor.via === "session") await deps.store.sessions.remove(actor.credentialId);
  await audit(deps, { actor, action: "auth.logout" });
}

export const listUsers = (deps: HubDeps) => deps.store.users.list();

export async function createUser(
  deps: HubDeps,
  actor: UserActor,
  request: { username: string; password: string; role: Role },
) {
  const created = await deps.store.users.insert({
    username: request.username,
    passwordHash: await hashPassword(request.password),
    role: request.role,
  });
  if (!created) throw new AppError("conflict", `user "${request.username}" already exists`);
  await audit(deps, {
    actor,
    action: "user.create",
    target: `user:${created.id}`,
    details: { role: request.role },
  });
  return created;
}

export async function updateUser(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: { role?: Role; password?: string },
) {
  const user = await deps.store.users.byId(id);
  if (!user) throw new AppError("not_found", `no user ${id}`);
  if (
    request.role &&
    request.role !== "admin" &&
    user.role === "admin" &&
    (await deps.store.users.countAdmins()) <= 1
  ) {
    throw new AppError("conflict", "the last admin cannot be demoted");
  }
  await deps.store.users.update(
    id,
    {
      role: request.role,
      passwordHash: request.password ? await hashPassword(request.password) : undefined,
    },
    deps.clock(),
  );
  // A changed password ends every session of that user.
  if (request.password) await deps.store.sessions.removeForUser(id);
  await audit(deps, {
    actor,
    action: "user.update",
    target: `user:${id}`,
    details: { role: request.role, password_changed: request.password !== undefined },
  });
  return (await deps.store.users.byId(id)) ?? user;
}

export async function deleteUser(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  const user = await deps.store.users.byId(id);
  if (!user) throw new AppError("not_found", `no user ${id}`);
  if (id === actor.userId) throw new AppError("conflict", "you cannot delete yourself");
  if (user.role === "admin" && (await deps.store.users.countAdmins()) <= 1) {
    throw new AppError("conflict", "the last admin cannot be deleted");
  }
  await deps.store.users.remove(id);
  await audit(deps, { actor, action: "user.delete", target: `user:${id}` });
}

/** The actor's own API tokens that still work (revoked and expired ones are left out). */
export const listApiTokens = (deps: HubDeps, actor: UserActor) =>
  deps.store.apiTokens.listForUser(actor.userId, deps.clock());

export async function createApiToken(
  deps: HubDeps,
  actor: UserActor,
  request: { name: string; role?: Role; expires_in_days?: number },
) {
  const role = request.role ?? actor.role;
  if (!roleAtLeast(actor.role, role)) {
    throw new AppError("forbidden", `a ${actor.role} cannot create a token with role ${role}`);
  }
  const { token, hash, prefix } = newToken("api");
  const row = await deps.store.apiTokens.insert({
    userId: actor.userId,
    name: request.name,
    role,
    tokenHash: hash,
    tokenPrefix: prefix,
    expiresAt: request.expires_in_days ? deps.clock() + request.expires_in_days * 86_400_000 : null,
  });
  await audit(deps, {
    actor,
    action: "api_token.create",
    target: `api_token:${row.id}`,
    details: { role },
  });
  return { row, token };
}

export async function revokeApiToken(deps: HubDeps, actor: UserActor, id: number): Promise<void> {
  const ok = await deps.store.apiTokens.revoke(
    id,
    actor.role === "admin" ? undefined : actor.userId,
    deps.clock(),
  );
  if (!ok) throw new AppError("not_found", `no api token ${id}`);
  await audit(deps, {
    actor,
    action: "api_token.revoke",
    target: `api_token:${id}`,
  });
}
