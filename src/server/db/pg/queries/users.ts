/** Users, their sessions and their API tokens on PostgreSQL. */
import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { ApiTokenRecord, CredentialMatchRecord, UserRecord } from "../../records.ts";
import type { ApiTokenStore, SessionStore, UserStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { apiTokens, sessions, users } from "../schema.ts";

const userColumns = {
  id: users.id,
  username: users.username,
  passwordHash: users.passwordHash,
  role: users.role,
  createdAt: users.createdAt,
};

const countAll = sql<number>`count(*)::int`;

export function userQueries(db: Db): UserStore {
  return {
    async count() {
      const [row] = await db.select({ n: countAll }).from(users);
      return row?.n ?? 0;
    },
    async list() {
      return parseRows(
        UserRecord,
        "users",
        await db.select(userColumns).from(users).orderBy(users.id),
      );
    },
    async byId(id) {
      const [row] = await db.select(userColumns).from(users).where(eq(users.id, id));
      return parseMaybe(UserRecord, "users", row);
    },
    async byUsername(username) {
      const [row] = await db.select(userColumns).from(users).where(eq(users.username, username));
      return parseMaybe(UserRecord, "users", row);
    },
    async insert(user) {
      const [row] = await db
        .insert(users)
        .values(user)
        .onConflictDoNothing({ target: users.username })
        .returning(userColumns);
      return parseMaybe(UserRecord, "users", row);
    },
    async update(id, patch, now) {
      const rows = await db
        .update(users)
        .set({ ...patch, updatedAt: now })
        .where(eq(users.id, id))
        .returning({ id: users.id });
      return rows.length > 0;
    },
    async remove(id) {
      const rows = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
      return rows.length > 0;
    },
    async countAdmins() {
      const [row] = await db.select({ n: countAll }).from(users).where(eq(users.role, "admin"));
      return row?.n ?? 0;
    },
  };
}

export function sessionQueries(db: Db): SessionStore {
  return {
    async insert(row) {
      const [inserted] = await db.insert(sessions).values(row).returning({ id: sessions.id });
      if (!inserted) throw new Error("session insert returned no row");
      return inserted;
    },
    async match(tokenHash, now) {
      const [row] = await db
        .select({
          credentialId: sessions.id,
          userId: users.id,
          username: users.username,
          userRole: users.role,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now)));
      if (!row) return undefined;
      await db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, row.credentialId));
      // A session acts with its user's role.
      return parseRow(
        CredentialMatchRecord,
        "sessions",
        { ...row, role: row.userRole },
        row.credentialId,
      );
    },
    async remove(id) {
      await db.delete(sessions).where(eq(sessions.id, id));
    },
    async removeForUser(userId) {
      await db.delete(sessions).where(eq(sessions.userId, userId));
    },
    async removeExpired(now) {
      const rows = await db
        .delete(sessions)
        .where(lt(sessions.expiresAt, now))
        .returning({ id: sessions.id });
      return rows.length;
    },
  };
}

const tokenColumns = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  name: apiTokens.name,
  role: apiTokens.role,
  tokenPrefix: apiTokens.tokenPrefix,
  createdAt: apiTokens.createdAt,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
};

export function apiTokenQueries(db: Db): ApiTokenStore {
  const live = (now: number) =>
    and(isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)));
  return {
    async insert(row) {
      const [inserted] = await db.insert(apiTokens).values(row).returning(tokenColumns);
      return parseRow(ApiTokenRecord, "api_tokens", inserted);
    },
    async listForUser(userId, now) {
      return parseRows(
        ApiTokenRecord,
        "api_tokens",
        await db
          .select(tokenColumns)
          .from(apiTokens)
          .where(and(eq(apiTokens.userId, userId), live(now)))
          .orderBy(apiTokens.id),
      );
    },
    async match(tokenHash, now) {
      const [row] = await db
        .select({
          credentialId: apiTokens.id,
          userId: users.id,
          username: users.username,
          userRole: users.role,
          role: apiTokens.role,
        })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(and(eq(apiTokens.tokenHash, tokenHash), live(now)));
      if (!row) return undefined;
      await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.credentialId));
      return parseRow(CredentialMatchRecord, "api_tokens", row, row.credentialId);
    },
    async revoke(id, userId, now) {
      const owner = userId === undefined ? undefined : eq(apiTokens.userId, userId);
      const rows = await db
        .update(apiTokens)
        .set({ revokedAt: now })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt), owner))
        .returning({ id: apiTokens.id });
      return rows.length > 0;
    },
  };
}
