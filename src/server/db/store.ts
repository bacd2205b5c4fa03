/**
 * The hub's one data-access object: every query module bound to one database. Services
 * take a Store and never see drizzle or SQLite; a PostgreSQL store would implement the
 * same shape.
 */
import type { Db } from "./client.ts";
import { auditQueries } from "./queries/audit.ts";
import { enrollmentQueries } from "./queries/enrollment.ts";
import { jobQueries } from "./queries/jobs.ts";
import { machineQueries } from "./queries/machines.ts";
import { repositoryQueries } from "./queries/repositories.ts";
import { apiTokenQueries, sessionQueries, userQueries } from "./queries/users.ts";

export function createStore(db: Db) {
  return {
    users: userQueries(db),
    sessions: sessionQueries(db),
    apiTokens: apiTokenQueries(db),
    audit: auditQueries(db),
    enrollment: enrollmentQueries(db),
    machines: machineQueries(db),
    repositories: repositoryQueries(db),
    jobs: jobQueries(db),
  };
}

export type Store = ReturnType<typeof createStore>;
