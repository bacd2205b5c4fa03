/** @jsxImportSource hono/jsx/dom */
/**
 * Machines managed by an agent: status, last seen, host facts, versions, capabilities and
 * labels. "Add machine" creates an enrollment token and shows the commands to run on the
 * machine (the one-line install, or register where borgctl is already installed).
 * Disable/enable act at once (both are undone by the other); revoke and delete ask first.
 * Edit renames a machine and sets its labels (`key=value` lines). Admins also see the
 * enrollment tokens (used, revoked, expired or still open) and can revoke an unused one.
 */
import { useState } from "hono/jsx/dom";
import type { Machine } from "../../shared/protocol/api.ts";
import { ApiError, api, type EnrollmentTokenInfo, errorMessage } from "../api.ts";
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
import { formatLabels, machineUpdateBody } from "../machine-labels.ts";

function AddMachine(props: { onDone: () => void; onCreated: () => void }) {
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

/** Rename and labels; only what changed is sent, refusals show next to their field. */
function EditMachine(props: { machine: Machine; onDone: (saved: boolean) => void }) {
  const m = props.machine;
  const [name, setName] = useState(m.name);
  const [labels, setLabels] = useState(formatLabels(m.labels));
  const [error, setError] = useState<{ field: "name" | "labels" | null; message: string } | null>(
    null,
  );
  const [busy, setBusy] = useState(false);
  const fieldError = (field: "name" | "labels") =>
    error?.field === field ? error.message : undefined;
  return (
    <form
      class="card"
      aria-label={`edit ${m.name}`}
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const checked = machineUpdateBody(m, { name, labels });
        if (!checked.ok) {
          setError({ field: checked.field, message: checked.error });
          return;
        }
        if (Object.keys(checked.body).length === 0) {
          props.onDone(false);
          return;
        }
        setBusy(true);
        setError(null);
        try {
          await api.updateMachine(m.id, checked.body);
        } catch (err) {
          const path = err instanceof ApiError && /^labels\b/.test(err.message) ? "labels" : null;
          setError({ field: path, message: errorMessage(err) });
          setBusy(false);
          return;
        }
        props.onDone(true);
      }}
    >
      <h2>Edit {m.name}</h2>
      <div class={fieldError("name") ? "field invalid" : "field"}>
        <label for="machine-name">Name</label>
        <input
          id="machine-name"
          name="name"
          maxLength={128}
          value={name}
          onInput={(e: Event) => setName((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={fieldError("name") ? "true" : undefined}
        />
        <ErrorText error={fieldError("name")} />
      </div>
      <div class={fieldError("labels") ? "field invalid" : "field"}>
        <label for="machine-labels">Labels</label>
        <textarea
          id="machine-labels"
          name="labels"
          rows={3}
          placeholder={"site=home\nrole=nas"}
          value={labels}
          onInput={(e: Event) => setLabels((e.currentTarget as HTMLTextAreaElement).value)}
          aria-invalid={fieldError("labels") ? "true" : undefined}
          aria-describedby="machine-labels-hint"
        />
        <p class="hint small" id="machine-labels-hint">
          One <code>key=value</code> a line; keys are lowercase letters, digits and{" "}
          <code>. _ / -</code>. An empty box removes every label.
        </p>
        <ErrorText error={fieldError("labels")} />
      </div>
      <ErrorText error={error && error.field === null ? error.message : null} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function tokenState(t: EnrollmentTokenInfo, machines: Machine[], now: number): string {
  if (t.used_at) {
    const by = machines.find((m) => m.id === t.used_by_agent_machine_id)?.name;
    return by ? `used by ${by}` : "used";
  }
  if (t.revoked_at) return "revoked";
  if (Date.parse(t.expires_at) <= now) return "expired";
  return "unused";
}

/** Admins: every enrollment token and its state; an unused one can be revoked. */
function EnrollmentTokens(props: {
  tokens: EnrollmentTokenInfo[];
  machines: Machine[];
  now: number;
  onChange: () => void;
}) {
  if (props.tokens.length === 0) {
    return (
      <p class="empty">
        No enrollment tokens yet. "Add machine" makes one for each machine to register.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Token</th>
            <th>Expires</th>
            <th>State</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.tokens.map((t) => {
            const state = tokenState(t, props.machines, props.now);
            return (
              <tr data-enrollment-token={t.name}>
                <td>{t.name}</td>
                <td>
                  <code>{t.token_prefix}…</code>
                </td>
                <td>{new Date(t.expires_at).toLocaleString()}</td>
                <td>{state}</td>
                <td>
                  {state === "unused" && (
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke the token for ${t.name}? It can no longer register a machine.`}
                      onConfirm={async () => {
                        await api.revokeEnrollmentToken(t.id);
                        props.onChange();
                      }}
                    />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Disable/enable (at once: each undoes the other), revoke and delete (both ask first). */
function MachineActions(props: { machine: Machine; onChange: () => void; onEdit: () => void }) {
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
      <button type="button" onClick={props.onEdit}>
        Edit
      </button>
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
  const me = useLoad(() => api.me(), []);
  const isAdmin = me.data?.role === "admin";
  const tokens = useLoad(
    () => (isAdmin ? api.enrollmentTokens() : Promise.resolve([])),
    [isAdmin],
    10_000,
  );
  const [editing, setEditing] = useState<number | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const list = machines.data ?? [];
  const edited = list.find((m) => m.id === editing);
  return (
    <section>
      <div class="title-row">
        <h1>Machines</h1>
        <AddMachine
          onCreated={tokens.reload}
          onDone={() => {
            machines.reload();
            tokens.reload();
          }}
        />
      </div>
      <ErrorText error={machines.error} />
      {edited && (
        <EditMachine
          machine={edited}
          onDone={(didSave) => {
            setEditing(null);
            setSaved(didSave ? `Saved ${edited.name}.` : null);
            if (didSave) machines.reload();
          }}
        />
      )}
      <p class="muted small" aria-live="polite">
        {saved}
      </p>
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
                    <MachineActions
                      machine={m}
                      onChange={machines.reload}
                      onEdit={() => {
                        setSaved(null);
                        setEditing(m.id);
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {isAdmin && (
        <>
          <h2>Enrollment tokens</h2>
          <ErrorText error={tokens.error} />
          {tokens.data && (
            <EnrollmentTokens
              tokens={tokens.data}
              machines={list}
              now={now}
              onChange={tokens.reload}
            />
          )}
        </>
      )}
    </section>
  );
}
