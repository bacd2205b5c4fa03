/**
 * Enrollment tokens: one-time, expiring credentials that let one machine register as an
 * agent. Stored as a SHA-256 hash plus a display prefix. Redeeming one is a single guarded
 * UPDATE (unused, unrevoked, unexpired), run in the same IMMEDIATE transaction as the
 * machine insert: two registrations racing on one token have exactly one winner, and a
 * failed insert leaves the token unused.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../client.ts";
import { agentMachines, enrollmentTokens } from "../schema.ts";
import type { NewMachine } from "./machines.ts";

export interface EnrollmentTokenRow {
  id: number;
  name: string;
  tokenPrefix: string;
  createdByUserId: number | null;
  expiresAt: number;
  usedAt: number | null;
  usedByAgentMachineId: number | null;
  revokedAt: number | null;
  createdAt: number;
}

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

export function enrollmentQueries(db: Db) {
  return {
    async insert(row: {
      name: string;
      tokenHash: string;
      tokenPrefix: string;
      createdByUserId: number;
      expiresAt: number;
      createdAt: number;
    }): Promise<EnrollmentTokenRow> {
      return db.insert(enrollmentTokens).values(row).returning(columns).get();
    },
    /** Every token, used, revoked and expired ones included (the UI shows their state). */
    async list(): Promise<EnrollmentTokenRow[]> {
      return db.select(columns).from(enrollmentTokens).orderBy(enrollmentTokens.id).all();
    },
    async byId(id: number): Promise<EnrollmentTokenRow | undefined> {
      return db.select(columns).from(enrollmentTokens).where(eq(enrollmentTokens.id, id)).get();
    },
    /** Looks a presented token up by hash whatever its state: used to explain a refusal in the audit. */
    async byHash(tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
      return db
        .select(columns)
        .from(enrollmentTokens)
        .where(eq(enrollmentTokens.tokenHash, tokenHash))
        .get();
    },
    /** Revokes a token not yet revoked; false when there is no such live row. */
    async revoke(id: number, now: number): Promise<boolean> {
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
     * Consumes the token and creates the machine, atomically. Undefined when the token is
     * unknown, used, revoked or expired (nothing is written then). If the insert throws,
     * the transaction rolls back and the token stays usable.
     */
    async redeem(
      tokenHash: string,
      now: number,
      machine: NewMachine,
    ): Promise<{ tokenId: number; machineId: number } | undefined> {
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
