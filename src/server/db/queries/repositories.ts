/** Placeholder: repository queries (filled in with the repository routes). */
import type { Db } from "../client.ts";

export function repositoryQueries(_db: Db) {
  return {};
}
