/** Users, their sessions and their API tokens. */
import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Role } from "../../../shared/protocol/api.ts";
import type { Db } from "../client.ts";
import { apiTokens, sessions, users } from "../schema.ts";

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
}

export interface ApiTokenRow {
  id: number;
  userId: number;
  name: string;
  role: Role;
  tokenPrefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export interface CredentialMatch {
  credentialId: number;
  userId: number;
  username: string;
  userRole: Role;
  /** The token's own role (API tokens), else the user's. */
  role: Role;
}

const userColumns = {
  id: users.id,
  username: users.username,
  passwordHash: users.passwordHash,
  role: users.role,
  createdAt: users.createdAt,
};

export function userQueries(db: Db) {
  return {
    async count(): Promise<number> {
      return db.select({ n: sql<number>`count(*)` }).from(users).get()?.n ?? 0;
    },
    async list(): Promise<UserRow[]> {
      return db.select(userColumns).from(users).orderBy(users.id).all() as UserRow[];
    },
    async byId(id: number): Promise<UserRow | undefined> {
      return db.select(userColumns).from(users).where(eq(users.id, id)).get() as
        | UserRow
        | undefined;
    },
    async byUsername(username: string): Promise<UserRow | undefined> {
      return db.select(userColumns).from(users).where(eq(users.username, username)).get() as
        | UserRow
        | undefined;
    },
    /** Undefined when the username is taken. */
    async insert(user: {
      username: string;
      passwordHash: string;
      role: Role;
    }): Promise<UserRow | undefined> {
      return db
        .insert(users)
        .values(user)
        .onConflictDoNothing({ target: users.username })
        .returning(userColumns)
        .get() as UserRow | undefined;
    },
    async update(
      id: number,
      patch: { role?: Role; passwordHash?: string },
      now: number,
    ): Promise<boolean> {
      return (
        db
          .update(users)
          .set({ ...patch, updatedAt: now })
          .where(eq(users.id, id))
          .returning({ id: users.id })
          .all().length > 0
      );
    },
    async remove(id: number): Promise<boolean> {
      return db.delete(users).where(eq(users.id, id)).returning({ id: users.id }).all().length > 0;
    },
    async countAdmins(): Promise<number> {
      return (
        db.select({ n: sql<number>`count(*)` }).from(users).where(eq(users.role, "admin")).get()
          ?.n ?? 0
      );
    },
  };
}

export function sessionQueries(db: Db) {
  return {
    async insert(row: {
      userId: number;
      tokenHash: string;
      tokenPrefix: string;
      expiresAt: number;
    }) {
      return db.insert(sessions).values(row).returning({ id: sessions.id }).get();
    },
    /** The live session for a token hash, with its user; touches last_used_at. */
    async match(tokenHash: string, now: number): Promise<CredentialMatch | undefined> {
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
      return { ...row, userRole: row.userRole as Role, role: row.userRole as Role };
    },
    async remove(id: number): Promise<void> {
      db.delete(sessions).where(eq(sessions.id, id)).run();
    },
    async removeForUser(userId: number): Promise<void> {
      db.delete(sessions).where(eq(sessions.userId, userId)).run();
    },
    async removeExpired(now: number): Promise<number> {
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

export function apiTokenQueries(db: Db) {
  const live = (now: number) =>
    and(isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)));
  return {
    async insert(row: {
      userId: number;
      name: string;
      role: Role;
      tokenHash: string;
      tokenPrefix: string;
      expiresAt: number | null;
    }): Promise<ApiTokenRow> {
      return db.insert(apiTokens).values(row).returning(tokenColumns).get() as ApiTokenRow;
    },
    async listForUser(userId: number, now: number): Promise<ApiTokenRow[]> {
      return db
        .select(tokenColumns)
        .from(apiTokens)
        .where(and(eq(apiTokens.userId, userId), live(now)))
        .orderBy(apiTokens.id)
        .all() as ApiTokenRow[];
    },
    async match(tokenHash: string, now: number): Promise<CredentialMatch | undefined> {
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
      return { ...row, userRole: row.userRole as Role, role: row.role as Role };
    },
    /** Revokes a token of `userId` (or of anyone when userId is undefined: admins). */
    async revoke(id: number, userId: number | undefined, now: number): Promise<boolean> {
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
