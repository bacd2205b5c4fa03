/** @jsxImportSource hono/jsx/dom */
/**
 * Settings: users and their roles (admins only: create, change role, reset password,
 * delete), notification channels (admins only: settings-notifications.tsx) and the signed-in user's own API tokens (create with a role up to their own
 * and an expiry, shown once; revoke). The hub enforces every rule (the last admin stays,
 * no token above its maker's role); its refusals are shown next to what caused them.
 */
import { api } from "../api.ts";
import { ErrorText, useLoad } from "../components.tsx";
import { NotificationsSection } from "./settings-notifications.tsx";
import { TokensSection } from "./settings-tokens.tsx";
import { UsersSection } from "./settings-users.tsx";

export function SettingsPage() {
  const me = useLoad(() => api.me(), []);
  return (
    <section>
      <h1>Settings</h1>
      <ErrorText error={me.error} />
      {!me.data && !me.error && <p class="muted">Loading…</p>}
      {me.data?.role === "admin" && <UsersSection me={me.data} />}
      {me.data?.role === "admin" && <NotificationsSection />}
      {me.data && <TokensSection me={me.data} />}
    </section>
  );
}
