/** @jsxImportSource hono/jsx/dom */
/**
 * Machines managed by an agent: status, last seen, host facts, versions. "Add machine"
 * creates an enrollment token and shows the command to run on the machine; revoke asks
 * first.
 */
import { useState } from "hono/jsx/dom";
import type { Machine } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import {
  ConfirmButton,
  CopyCommand,
  ErrorText,
  StatusBadge,
  useLoad,
  useNow,
} from "../components.tsx";
import { formatAge } from "../format.ts";

export function registerCommand(origin: string, token: string): string {
  return `borgctl agent register --server ${origin} --token ${token}`;
}

function AddMachine(props: { onDone: () => void }) {
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
          On the machine, with borgctl installed, run this once (the token works once, until{" "}
          {new Date(created.expires).toLocaleString()}), then start the agent with{" "}
          <code>borgctl agent run</code>:
        </p>
        <CopyCommand
          label="register command"
          command={registerCommand(window.location.origin, created.token)}
        />
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

function borgVersions(m: Machine): string {
  return m.borg_versions.map((b) => b.version).join(", ") || "none found";
}

export function MachinesPage() {
  const now = useNow();
  const machines = useLoad(() => api.machines(), [], 5000);
  const list = machines.data ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Machines</h1>
        <AddMachine onDone={machines.reload} />
      </div>
      <ErrorText error={machines.error} />
      {machines.data && list.length === 0 && (
        <p class="empty">
          No machines yet. Press "Add machine" and run the command it shows on the machine to back
          up.
        </p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Last seen</th>
                <th>Host</th>
                <th>OS / arch</th>
                <th>Agent</th>
                <th>Borg</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr data-machine={m.name}>
                  <td>{m.name}</td>
                  <td>
                    <StatusBadge status={m.status} />
                    {m.last_error && <div class="muted small">{m.last_error}</div>}
                  </td>
                  <td>{formatAge(m.last_seen_at, now)}</td>
                  <td>{m.hostname || "–"}</td>
                  <td>{m.os ? `${m.os} / ${m.arch}` : "–"}</td>
                  <td>{m.agent_version || "–"}</td>
                  <td>{borgVersions(m)}</td>
                  <td>
                    {m.status !== "revoked" && (
                      <ConfirmButton
                        label="Revoke"
                        question={`Revoke ${m.name}? Its agent can no longer connect.`}
                        onConfirm={async () => {
                          await api.revokeMachine(m.id);
                          machines.reload();
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
