/**
 * drizzle-kit for the PostgreSQL store: `bunx drizzle-kit generate --config
 * drizzle.pg.config.ts --name <what changed>` writes a new SQL migration from
 * src/server/db/pg/schema.ts (embedded by pg/migrations-macro.ts). drizzle.config.ts
 * does the same for SQLite; a schema change is made in both.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/server/db/pg/schema.ts",
  out: "./src/server/db/pg/migrations",
});
