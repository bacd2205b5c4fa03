import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { JobRecord, PlanRecord } from "../../../../src/server/db/records.ts";
import { applyMigrations, embeddedMigrations } from "../../../../src/server/db/sqlite/migrate.ts";

const DIR = resolve(import.meta.dir, "../../../../src/server/db/sqlite/migrations");

describe("embedded migrations", () => {
  test("are the SQL files of drizzle-kit's journal, in its order, hashed as they are on disk", () => {
    const journal = JSON.parse(readFileSync(join(DIR, "meta", "_journal.json"), "utf8")) as {
      entries: { tag: string }[];
    };
    const files = readdirSync(DIR)
      .filter((name) => name.endsWith(".sql"))
      .map((name) => name.replace(/\.sql$/, ""))
      .sort();
    const migrations = embeddedMigrations();
    expect(migrations.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    expect(migrations.map((m) => m.tag)).toEqual(files);
    expect(migrations.slice(0, 2).map((m) => m.tag)).toEqual([
      "0000_init",
      "0001_plans_and_job_targets",
    ]);
    for (const migration of migrations) {
      const sql = readFileSync(join(DIR, `${migration.tag}.sql`), "utf8");
      expect(migration.hash).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(migration.statements.length).toBeGreaterThan(0);
      for (const statement of migration.statements) expect(statement.trim()).not.toBe("");
    }
  });

  test("leave tables whose columns are exactly what the records read", () => {
    const sqlite = new Database(":memory:");
    applyMigrations(sqlite);
    const columns = (table: string) =>
      sqlite
        .query<{ name: string }, []>(`PRAGMA table_info(${table})`)
        .all()
        .map((c) => c.name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()))
        .sort();
    expect(columns("jobs")).toEqual(Object.keys(JobRecord.shape).sort());
    expect(columns("plans")).toEqual(Object.keys(PlanRecord.shape).sort());
  });
});
