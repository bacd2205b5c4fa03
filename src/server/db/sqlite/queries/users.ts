/** Users, their sessions and their API tokens on SQLite. */
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

export function userQueries(db: Db): UserStore {
  return {
    async count() {
      return db.select({ n: sql<number>`count(*)` }).from(users).get()?.n ?? 0;
    },
    async list() {
      return parseRows(
        UserRecord,
        "users",
        db.select(userColumns).from(users).orderBy(users.id).all(),
      );
    },
    async byId(id) {
      return parseMaybe(
        UserRecord,
        "users",
        db.select(userColumns).from(users).where(eq(users.id, id)).get(),
      );
    },
    async byUsername(username) {
      return parseMaybe(
        UserRecord,
        "users",
        db.select(userColumns).from(users).where(eq(users.username, username)).get(),
      );
    },
    async insert(user) {
      return parseMaybe(
        UserRecord,
        "users",
        db
          .insert(users)
          .values(user)
          .onConflictDoNothing({ target: users.username })
          .returning(userColumns)
          .get(),
      );
    },
    async update(id, patch, now) {
      return (
        db
          .update(users)
          .set({ ...patch, updatedAt: now })
          .where(eq(users.id, id))
          .returning({ id: users.id })
          .all().length > 0
      );
    },
    async remove(id) {
      return db.delete(users).where(eq(users.id, id)).returning({ id: users.id }).all().length > 0;
    },
    async countAdmins() {
      return (
        db.select({ n: sql<number>`count(*)` }).from(users).where(eq(users.role, "admin")).get()
          ?.n ?? 0
      );
    },
  };
}

export function sessionQueries(db: Db): SessionStore {
  return {
    async insert(row) {
      return db.insert(sessions).values(row).returning({ id: sessions.id }).get();
    },
    async match(tokenHash, now) {
      const row = db
        .select({
          credentialId: sessions.id,
          userId: users.id,
          username: users.username,
          userRole: users.role,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now)))
        .get();
      if (!row) return undefined;
      db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, row.credentialId)).run();
      // A session acts with its user's role.
      return parseRow(
        CredentialMatchRecord,
        "sessions",
        { ...row, role: row.userRole },
        row.credentialId,
      );
    },
    async remove(id) {
      db.delete(sessions).where(eq(sessions.id, id)).run();
    },
    async removeForUser(userId) {
      db.delete(sessions).where(eq(sessions.userId, userId)).run();
    },
    async removeExpired(now) {
      return db
        .delete(sessions)
        .where(lt(sessions.expiresAt, now))
        .returning({ id: sessions.id })
        .all().length;
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
      return parseRow(
        ApiTokenRecord,
        "api_tokens",
        db.insert(apiTokens).values(row).returning(tokenColumns).get(),
      );
    },
    async listForUser(userId, now) {
      return parseRows(
        ApiTokenRecord,
        "api_tokens",
        db
          .select(tokenColumns)
          .from(apiTokens)
          .where(and(eq(apiTokens.userId, userId), live(now)))
          .orderBy(apiTokens.id)
          .all(),
      );
    },
    async match(tokenHash, now) {
      const row = db
        .select({
          credentialId: apiTokens.id,
          userId: users.id,
          username: users.username,
          userRole: users.role,
          role: apiTokens.role,
        })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(and(eq(apiTokens.tokenHash, tokenHash), live(now)))
        .get();
      if (!row) return undefined;
      db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.credentialId)).run();
      return parseRow(CredentialMatchRecord, "api_tokens", row, row.credentialId);
    },
    async revoke(id, userId, now) {
      const owner = userId === undefined ? undefined : eq(apiTokens.userId, userId);
      return (
        db
          .update(apiTokens)
          .set({ revokedAt: now })
          .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt), owner))
          .returning({ id: apiTokens.id })
          .all().length > 0
      );
    },
  };
}
