/**
 * Reading rows back into records: every row a store (SQLite or PostgreSQL) returns goes through its
 * record schema (records.ts). drizzle has already turned JSON columns into values and
 * booleans into booleans, without checking them; this is where a row that is not what
 * the code expects (a hand-edited database, a column written by a newer hub) stops,
 * naming the table and row rather than failing later in a service.
 */
import type { z } from "zod";

export class StoredRecordError extends Error {
  constructor(table: string, id: unknown, error: z.ZodError) {
    const issues = error.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`);
    super(
      `stored ${table} row ${String(id ?? "?")} does not match its record: ${issues.join("; ")}`,
    );
    this.name = "StoredRecordError";
  }
}

/** `id` names the row in an error when `raw` has no id of its own (a single column). */
export function parseRow<S extends z.ZodType>(
  schema: S,
  table: string,
  raw: unknown,
  id?: number,
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const ownId = typeof raw === "object" && raw !== null && "id" in raw ? raw.id : undefined;
  throw new StoredRecordError(table, id ?? ownId, result.error);
}

export function parseMaybe<S extends z.ZodType>(
  schema: S,
  table: string,
  raw: unknown,
): z.output<S> | undefined {
  return raw === undefined ? undefined : parseRow(schema, table, raw);
}

export function parseRows<S extends z.ZodType>(
  schema: S,
  table: string,
  raws: readonly unknown[],
): z.output<S>[] {
  return raws.map((raw) => parseRow(schema, table, raw));
}
