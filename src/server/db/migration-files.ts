/**
 * Reading a drizzle-kit migrations folder (journal order, one SHA-256 per SQL file, split
 * at drizzle-kit's statement breakpoints). Used only by the dialects' migration macros
 * (sqlite/ and pg/ migrations-macro.ts), at bundle time: the binary reads no files.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** The part of drizzle-kit's journal the runner needs: the migrations, in order. */
const Journal = z.object({ entries: z.array(z.object({ tag: z.string().regex(/^\w+$/) })) });

export interface Migration {
  tag: string;
  /** SHA-256 of the SQL file: an applied migration must never change. */
  hash: string;
  statements: string[];
}

export function readMigrationDir(dir: string): Migration[] {
  const journal = Journal.parse(
    JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")),
  );
  return journal.entries.map(({ tag }) => {
    const sql = readFileSync(join(dir, `${tag}.sql`), "utf8");
    return {
      tag,
      hash: createHash("sha256").update(sql).digest("hex"),
      statements: sql
        .split("--> statement-breakpoint")
        .map((s) => s.trim())
        .filter(Boolean),
    };
  });
}
