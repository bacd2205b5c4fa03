/** drizzle-kit: `bunx drizzle-kit generate` writes SQL migrations from the schema. */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/server/db/schema.ts",
  out: "./src/server/db/migrations",
});
