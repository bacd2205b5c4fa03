/** Placeholder: job and job log queries (filled in with the job routes). */
import type { Db } from "../client.ts";

export function jobQueries(_db: Db) {
  return {};
}
