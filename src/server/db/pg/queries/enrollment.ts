/**
 * Enrollment tokens on PostgreSQL. Redeeming is one guarded UPDATE (unused, unrevoked,
 * unexpired) in the same transaction as the machine insert: of racing redeemers the row
 * lock lets one through and the others re-check a used token and get nothing; a failed
 * insert rolls the token back to unused.
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
      const [inserted] = await db.insert(enrollmentTokens).values(row).returning(columns);
      return parseRow(EnrollmentTokenRecord, TABLE, inserted);
    },
    async list() {
      return parseRows(
        EnrollmentTokenRecord,
        TABLE,
        await db.select(columns).from(enrollmentTokens).orderBy(enrollmentTokens.id),
      );
    },
    async byId(id) {
      const [row] = await db
        .select(columns)
        .from(enrollmentTokens)
        .where(eq(enrollmentTokens.id, id));
      return parseMaybe(EnrollmentTokenRecord, TABLE, row);
    },
    async byHash(tokenHash) {
      const [row] = await db
        .select(columns)
        .from(enrollmentTokens)
        .where(eq(enrollmentTokens.tokenHash, tokenHash));
      return parseMaybe(EnrollmentTokenRecord, TABLE, row);
    },
    async revoke(id, now) {
      const rows = await db
        .update(enrollmentTokens)
        .set({ revokedAt: now })
        .where(and(eq(enrollmentTokens.id, id), isNull(enrollmentTokens.revokedAt)))
        .returning({ id: enrollmentTokens.id });
      return rows.length > 0;
    },
    async redeem(tokenHash, now, machine) {
      return db.transaction(async (tx) => {
        const [token] = await tx
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
          .returning({ id: enrollmentTokens.id });
        if (!token) return undefined;
        const [created] = await tx
          .insert(agentMachines)
          .values({ ...machine, createdAt: now, updatedAt: now })
          .returning({ id: agentMachines.id });
        if (!created) throw new Error("machine insert returned no row");
        await tx
          .update(enrollmentTokens)
          .set({ usedByAgentMachineId: created.id })
          .where(eq(enrollmentTokens.id, token.id));
        return { tokenId: token.id, machineId: created.id };
      });
    },
  };
}
