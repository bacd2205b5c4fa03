/** @jsxImportSource hono/jsx/dom */
/** The sign-in form; errors in plain words under it, and where the first password is. */
import { useState } from "hono/jsx/dom";
import { api, errorMessage, type Me } from "../api.ts";
import { ErrorText } from "../components.tsx";

export function LoginPage(props: { onLogin: (me: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(String(form.get("username")), String(form.get("password")));
      const { id, username, role } = answer.user;
      props.onLogin({ id, username, role, via: "session" });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>borgctl</h1>
      <form class="card" onSubmit={submit}>
        <h2>Sign in</h2>
        <label>
          Username
          <input name="username" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p class="hint">
          First start? The admin password was printed when the hub first started (or set with
          BORGCTL_ADMIN_PASSWORD).
        </p>
      </form>
    </main>
  );
}
