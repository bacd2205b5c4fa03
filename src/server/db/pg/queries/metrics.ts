/**
 * The aggregates GET /metrics reads on PostgreSQL (MetricsStore): job counts by kind and
 * status, and each repository's newest backup size (from the stored result's stats).
 */
import { and, count, inArray, isNotNull, max } from "drizzle-orm";
import { parseRow } from "../../parse.ts";
import { StoredJobResult } from "../../records.ts";
import type { MetricsStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { jobs } from "../schema.ts";

const PRODUCED_ARCHIVE = ["completed", "completed_with_warnings"];

export function metricsQueries(db: Db): MetricsStore {
  return {
    async jobCounts() {
      const rows = await db
        .select({ jobKind: jobs.jobKind, status: jobs.status, count: count() })
        .from(jobs)
        .groupBy(jobs.jobKind, jobs.status);
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },
    async latestBackupSizes() {
      const newest = db
        .select({ id: max(jobs.id) })
        .from(jobs)
        .where(
          and(
            inArray(jobs.jobKind, ["backup.create"]),
            inArray(jobs.status, PRODUCED_ARCHIVE),
            isNotNull(jobs.repositoryId),
          ),
        )
        .groupBy(jobs.repositoryId);
      const rows = await db
        .select({ id: jobs.id, repositoryId: jobs.repositoryId, result: jobs.result })
        .from(jobs)
        .where(inArray(jobs.id, newest));
      return rows.flatMap((r) => {
        const result =
          r.result === null ? null : parseRow(StoredJobResult, "jobs.result", r.result, r.id);
        const bytes = result?.stats?.original_size;
        return r.repositoryId === null || bytes === undefined
          ? []
          : [{ repositoryId: r.repositoryId, originalBytes: bytes }];
      });
    },
  };
}
