/**
 * One source of truth for both stores: the records of records.ts. Each dialect's schema
 * (sqlite/schema.ts, pg/schema.ts) must have the same tables with the same columns (SQL
 * name, JS key, nullability), and every field a record reads from a table must be one of
 * its columns, so a column added to one dialect and not the other, or a record field
 * without a column, fails here before any query runs.
 */
import { describe, expect, test } from "bun:test";
import { getTableColumns, getTableName, is, Table } from "drizzle-orm";
import type { z } from "zod";
import * as pg from "../../../../src/server/db/pg/schema.ts";
import * as records from "../../../../src/server/db/records.ts";
import * as sqlite from "../../../../src/server/db/sqlite/schema.ts";

const tablesOf = (schema: Record<string, unknown>) =>
  new Map(
    Object.values(schema)
      .filter((value): value is Table => is(value, Table))
      .map((table) => [getTableName(table), table]),
  );

const shape = (table: Table) =>
  Object.entries(getTableColumns(table))
    .map(([key, column]) => `${key}=${column.name}${column.notNull ? " not null" : ""}`)
    .sort();

/** Record → the table it is read from; fields computed by the query (not columns) listed. */
const RECORD_TABLES: [z.ZodObject, string, string[]][] = [
  [records.UserRecord, "users", []],
  [records.ApiTokenRecord, "api_tokens", []],
  [records.AuditRecord, "audit_events", []],
  [records.EnrollmentTokenRecord, "enrollment_tokens", []],
  [records.MachineRecord, "agent_machines", []],
  [records.RepositoryRecord, "repositories", ["hasPassphrase"]],
  [records.JobRecord, "jobs", []],
  [records.JobLogRecord, "job_logs", []],
  [records.PlanRecord, "plans", []],
  [records.BoxRecord, "boxes", []],
  [records.LentBoxKeyRecord, "lent_box_keys", []],
  [records.NotificationChannelRecord, "notification_channels", []],
  [records.NotificationDeliveryRecord, "notification_deliveries", []],
  [records.ArchiveListingRecord, "archive_listings", []],
  [records.ArchiveEntryRecord, "archive_listing_entries", []],
];

describe("SQLite and PostgreSQL schemas", () => {
  const sqliteTables = tablesOf(sqlite);
  const pgTables = tablesOf(pg);

  test("have the same tables", () => {
    expect([...pgTables.keys()].sort()).toEqual([...sqliteTables.keys()].sort());
  });

  test("have the same columns in every table", () => {
    for (const [name, table] of sqliteTables) {
      const other = pgTables.get(name);
      expect(other).toBeDefined();
      if (other) expect({ [name]: shape(other) }).toEqual({ [name]: shape(table) });
    }
  });

  test("hold every field of every record as a column", () => {
    for (const [record, name, computed] of RECORD_TABLES) {
      for (const tables of [sqliteTables, pgTables]) {
        const table = tables.get(name);
        if (!table) throw new Error(`no table ${name}`);
        const columns = Object.keys(getTableColumns(table));
        const missing = Object.keys(record.shape).filter(
          (field) => !computed.includes(field) && !columns.includes(field),
        );
        expect({ [name]: missing }).toEqual({ [name]: [] });
      }
    }
  });
});
