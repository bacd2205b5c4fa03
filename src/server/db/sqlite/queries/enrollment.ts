/**
 * Enrollment tokens: one-time, expiring credentials that let one machine register as an
 * agent. Stored as a SHA-256 hash plus a display prefix. Redeeming one is a single guarded
 * UPDATE (unused, unrevoked, unexpired), run in the same IMMEDIATE transaction as the
 * machine insert: two registrations racing on one token have exactly one winner, and a
 * failed insert leaves the token unused.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import { parseMaybe, parseRow, parseRows } from "../../parse.ts";
import { EnrollmentTokenRecord } from "../../records.ts";
import type { EnrollmentStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { agentMachines, enrollmentTokens } from "../schema.ts";

const TABLE = "enrollment_tokens";

const columns = {
  id: enrollmentTokens.id,
  name: enrollmentTokens.name,
  tokenPrefix: enrollmentTokens.tokenPrefix,
  createdByUserId: enrollmentTokens.createdByUserId,
  expiresAt: enrollmentTokens.expiresAt,
  usedAt: enrollmentTokens.usedAt,
  usedByAgentMachineId: enrollmentTokens.usedByAgentMachineId,
  revokedAt: enrollmentTokens.revokedAt,
  createdAt: enrollmentTokens.createdAt,
};

export function enrollmentQueries(db: Db): EnrollmentStore {
  return {
    async insert(row) {
      return parseRow(
        EnrollmentTokenRecord,
        TABLE,
        db.insert(enrollmentTokens).values(row).returning(columns).get(),
      );
    },
    async list() {
      return parseRows(
        EnrollmentTokenRecord,
        TABLE,
        db.select(columns).from(enrollmentTokens).orderBy(enrollmentTokens.id).all(),
      );
    },
    async byId(id) {
      return parseMaybe(
        EnrollmentTokenRecord,
        TABLE,
        db.select(columns).from(enrollmentTokens).where(eq(enrollmentTokens.id, id)).get(),
      );
    },
    async byHash(tokenHash) {
      return parseMaybe(
        EnrollmentTokenRecord,
        TABLE,
        db
          .select(columns)
          .from(enrollmentTokens)
          .where(eq(enrollmentTokens.tokenHash, tokenHash))
          .get(),
      );
    },
    async revoke(id, now) {
      return (
        db
          .update(enrollmentTokens)
          .set({ revokedAt: now })
          .where(and(eq(enrollmentTokens.id, id), isNull(enrollmentTokens.revokedAt)))
          .returning({ id: enrollmentTokens.id })
          .all().length > 0
      );
    },
    /**
     * One IMMEDIATE transaction (a savepoint inside store.transaction): if the machine
     * insert throws, it rolls back and the token stays usable.
     */
    async redeem(tokenHash, now, machine) {
      return db.transaction(
        (tx) => {
          const token = tx
            .update(enrollmentTokens)
            .set({ usedAt: now })
            .where(
              and(
                eq(enrollmentTokens.tokenHash, tokenHash),
                isNull(enrollmentTokens.usedAt),
                isNull(enrollmentTokens.revokedAt),
                gt(enrollmentTokens.expiresAt, now),
              ),
            )
            .returning({ id: enrollmentTokens.id })
            .get();
          if (!token) return undefined;
          const created = tx
            .insert(agentMachines)
            .values({ ...machine, createdAt: now, updatedAt: now })
            .returning({ id: agentMachines.id })
            .get();
          tx.update(enrollmentTokens)
            .set({ usedByAgentMachineId: created.id })
            .where(eq(enrollmentTokens.id, token.id))
            .run();
          return { tokenId: token.id, machineId: created.id };
        },
        { behavior: "immediate" },
      );
    },
  };
}
