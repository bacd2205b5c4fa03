/**
 * Roles as the UI offers them: a user may give an API token at most their own role (the
 * hub refuses more), so the token form lists only those. Pure.
 */
import { ROLES, type Role } from "../shared/protocol/api.ts";

/** How much a role may do: viewer < operator < admin. */
export function roleRank(role: Role): number {
  return ROLES.length - ROLES.indexOf(role);
}

/** The roles at most `role`, strongest first: operator → ["operator", "viewer"]. */
export function rolesUpTo(role: Role): Role[] {
  return ROLES.filter((r) => roleRank(r) <= roleRank(role));
}

/** Running jobs (back up, check, break lock, cancel) needs an operator; viewers only look. */
export function canRunJobs(role: Role | undefined): boolean {
  return role !== undefined && roleRank(role) >= roleRank("operator");
}

/** Creating, editing and deleting repositories and machines is for admins. */
export function canAdminister(role: Role | undefined): boolean {
  return role === "admin";
}
