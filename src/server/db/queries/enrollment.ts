/** Placeholder: enrollment token queries (filled in with the agents routes). */
import type { Db } from "../client.ts";

export function enrollmentQueries(_db: Db) {
  return {};
}
