/**
 * The UI's routes (real paths; the hub answers index.html for any of them) and
 * navigation with the History API. parseRoute is pure; navigate touches `window`
 * only when called.
 */

export type Route =
  | { page: "dashboard" }
  | { page: "machines" }
  | { page: "boxes" }
  | { page: "repositories" }
  | { page: "repository"; id: number }
  | { page: "jobs" }
  | { page: "job"; id: number }
  | { page: "settings" }
  | { page: "audit" }
  | { page: "login" }
  | { page: "not_found"; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { page: "dashboard" };
  if (path === "/machines") return { page: "machines" };
  if (path === "/boxes") return { page: "boxes" };
  if (path === "/repositories") return { page: "repositories" };
  if (path === "/jobs") return { page: "jobs" };
  if (path === "/login") return { page: "login" };
  if (path === "/settings") return { page: "settings" };
  if (path === "/audit") return { page: "audit" };
  const job = /^\/jobs\/([1-9]\d{0,15})$/.exec(path);
  if (job?.[1]) return { page: "job", id: Number(job[1]) };
  const repository = /^\/repositories\/([1-9]\d{0,15})$/.exec(path);
  if (repository?.[1]) return { page: "repository", id: Number(repository[1]) };
  return { page: "not_found", path };
}

export const ROUTE_CHANGED = "borgctl:navigate";

export function navigate(path: string): void {
  if (window.location.pathname === path) return;
  window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(ROUTE_CHANGED));
}
