/** @jsxImportSource hono/jsx/dom */
/**
 * Machines managed by an agent: status, last seen, host facts, versions, capabilities and
 * labels. "Add machine" creates an enrollment token and shows the commands to run on the
 * machine (the one-line install, or register where borgctl is already installed).
 * Disable/enable act at once (both are undone by the other); revoke and delete ask first.
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
import { installCommand, registerCommand } from "../machine-commands.ts";

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

function Tags(props: { items: string[]; empty: string }) {
  if (props.items.length === 0) return <span class="muted">{props.empty}</span>;
  return (
    <ul class="tags">
      {props.items.map((item) => (
        <li>{item}</li>
      ))}
    </ul>
  );
}

/** Disable/enable (at once: each undoes the other), revoke and delete (both ask first). */
function MachineActions(props: { machine: Machine; onChange: () => void }) {
  const m = props.machine;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toggle = async (run: (id: number) => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await run(m.id);
      props.onChange();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="row-actions">
      {m.status === "disabled" && (
        <button type="button" disabled={busy} onClick={() => toggle(api.enableMachine)}>
          Enable
        </button>
      )}
      {m.status !== "disabled" && m.status !== "revoked" && (
        <button type="button" disabled={busy} onClick={() => toggle(api.disableMachine)}>
          Disable
        </button>
      )}
      {m.status !== "revoked" && (
        <ConfirmButton
          label="Revoke"
          question={`Revoke ${m.name}? Its agent can no longer connect.`}
          onConfirm={async () => {
            await api.revokeMachine(m.id);
            props.onChange();
          }}
        />
      )}
      <ConfirmButton
        label="Delete"
        question={`Delete ${m.name}? Its job history goes with it.`}
        onConfirm={async () => {
          await api.deleteMachine(m.id);
          props.onChange();
        }}
      />
      <ErrorText error={error} />
    </div>
  );
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
                <th>Capabilities</th>
                <th>Labels</th>
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
                    <Tags items={m.capabilities} empty="none reported" />
                  </td>
                  <td>
                    <Tags
                      items={Object.entries(m.labels).map(([k, v]) => `${k}=${v}`)}
                      empty="none"
                    />
                  </td>
                  <td>
                    <MachineActions machine={m} onChange={machines.reload} />
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
