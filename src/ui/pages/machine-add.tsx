/** @jsxImportSource hono/jsx/dom */
/**
 * "Add machine": a name, then an enrollment token and the commands to run on the machine
 * (the one-line install, or register where borgctl is already installed), shown once.
 */
import { useState } from "hono/jsx/dom";
import { api, errorMessage } from "../api.ts";
import { CopyCommand, ErrorText } from "../components.tsx";
import { installCommand, registerCommand } from "../machine-commands.ts";

export function AddMachine(props: { onDone: () => void; onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string; expires: string } | null>(
    null,
  );
  if (!open) {
    return (
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        Add machine
      </button>
    );
  }
  if (created) {
    return (
      <div class="card" aria-live="polite">
        <h2>Register "{created.name}"</h2>
        <p>
          Run one of these on the machine, once: the token works for one registration, until{" "}
          {new Date(created.expires).toLocaleString()}.
        </p>
        <h3>Install borgctl and start the agent as a service</h3>
        <CopyCommand
          label="install command"
          command={installCommand(window.location.origin, created.token)}
        />
        <h3>Or, with borgctl already installed</h3>
        <CopyCommand
          label="register command"
          command={registerCommand(window.location.origin, created.token)}
        />
        <p class="muted small">
          Then start the agent with <code>borgctl agent run</code>.
        </p>
        <p class="muted">The token is shown only now; it is not stored in readable form.</p>
        <button
          type="button"
          onClick={() => {
            setCreated(null);
            setOpen(false);
            props.onDone();
          }}
        >
          Done
        </button>
      </div>
    );
  }
  return (
    <form
      class="card"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const name = String(new FormData(e.currentTarget as HTMLFormElement).get("name")).trim();
        setBusy(true);
        setError(null);
        try {
          const token = await api.createEnrollmentToken(name);
          setCreated({ name, token: token.token, expires: token.expires_at });
          props.onCreated();
        } catch (err) {
          setError(errorMessage(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Add a machine</h2>
      <label>
        Name
        <input name="name" required maxLength={128} placeholder="e.g. laptop" />
      </label>
      <ErrorText error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Create registration command
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
