/**
 * drizzle-kit: `bunx drizzle-kit generate --name <what changed>` writes a new SQL
 * migration of the SQLite store from its schema (embedded by migrations-macro.ts).
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/server/db/sqlite/schema.ts",
  out: "./src/server/db/sqlite/migrations",
});
