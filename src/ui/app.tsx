/** @jsxImportSource hono/jsx/dom */
/**
 * The UI's shell: who is signed in (GET /api/auth/me; a 401 anywhere shows the login
 * page), the navigation, logout, and which page the current path shows.
 */
import { useEffect, useState } from "hono/jsx/dom";
import { api, errorMessage, type Me, setUnauthorizedHandler } from "./api.ts";
import { ErrorText, Link } from "./components.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { BoxesPage } from "./pages/boxes.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { JobDetailPage } from "./pages/job-detail.tsx";
import { JobsPage } from "./pages/jobs.tsx";
import { LoginPage } from "./pages/login.tsx";
import { MachinesPage } from "./pages/machines.tsx";
import { RepositoriesPage } from "./pages/repositories.tsx";
import { RepositoryDetailPage } from "./pages/repository-detail.tsx";
import { SettingsPage } from "./pages/settings.tsx";
import { navigate, parseRoute, ROUTE_CHANGED, type Route } from "./routes.ts";

const NAV = [
  { href: "/", label: "Dashboard", pages: ["dashboard"] },
  { href: "/machines", label: "Machines", pages: ["machines"] },
  { href: "/boxes", label: "Boxes", pages: ["boxes"] },
  { href: "/repositories", label: "Repositories", pages: ["repositories", "repository"] },
  { href: "/jobs", label: "Jobs", pages: ["jobs", "job"] },
  { href: "/settings", label: "Settings", pages: ["settings"] },
  { href: "/audit", label: "Audit", pages: ["audit"], adminOnly: true },
];

function Page(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case "dashboard":
    case "login":
      return <DashboardPage />;
    case "machines":
      return <MachinesPage />;
    case "boxes":
      return <BoxesPage />;
    case "repositories":
      return <RepositoriesPage />;
    case "repository":
      return <RepositoryDetailPage id={r.id} />;
    case "jobs":
      return <JobsPage />;
    case "job":
      return <JobDetailPage id={r.id} />;
    case "settings":
      return <SettingsPage />;
    case "audit":
      return <AuditPage />;
    case "not_found":
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{r.path}</code>. <Link href="/">Go to the dashboard</Link>.
          </p>
        </section>
      );
  }
}

export function App() {
  /** undefined while asking the hub, null when signed out. */
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [route, setRoute] = useState<Route>(parseRoute(window.location.pathname));
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const sync = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", sync);
    window.addEventListener(ROUTE_CHANGED, sync);
    setUnauthorizedHandler(() => setMe(null));
    api.me().then(setMe, () => setMe(null));
    return () => {
      window.removeEventListener("popstate", sync);
      window.removeEventListener(ROUTE_CHANGED, sync);
    };
  }, []);

  useEffect(() => {
    document.title = me
      ? `borgctl · ${NAV.find((n) => n.pages.includes(route.page))?.label ?? ""}`
      : "borgctl";
  }, [me, route]);

  if (me === undefined) return <p class="muted center">Loading…</p>;
  if (me === null) {
    return (
      <LoginPage
        onLogin={(user) => {
          setMe(user);
          if (route.page === "login") navigate("/");
        }}
      />
    );
  }
  return (
    <div class="shell">
      <header>
        <nav aria-label="main">
          <strong class="brand">borgctl</strong>
          {NAV.filter((n) => !n.adminOnly || me.role === "admin").map((n) => (
            <Link href={n.href} class={n.pages.includes(route.page) ? "active" : ""}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div class="user">
          <span class="muted">
            {me.username} ({me.role})
          </span>
          <button
            type="button"
            onClick={async () => {
              try {
                await api.logout();
                setMe(null);
              } catch (e) {
                setError(errorMessage(e));
              }
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <ErrorText error={error} />
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}
