/** @jsxImportSource hono/jsx/dom */
/**
 * Machines managed by an agent: status, last seen, host facts, versions, capabilities and
 * labels; a machine running Borg UI's agent says so and what that means. "Add machine" creates an enrollment token and shows the commands to run on the
 * machine (the one-line install, or register where borgctl is already installed).
 * Disable/enable act at once (both are undone by the other); revoke and delete ask first.
 * Edit renames a machine and sets its labels (`key=value` lines). Admins also see the
 * enrollment tokens (used, revoked, expired or still open) and can revoke an unused one.
 */
import { useState } from "hono/jsx/dom";
import type { Machine } from "../../shared/protocol/api.ts";
import { api } from "../api.ts";
import { CopyCommand, ErrorText, StatusBadge, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { Modal } from "../modal.tsx";
import { EnrollmentTokens } from "./enrollment-tokens.tsx";
import { AddMachine } from "./machine-add.tsx";
import { EditMachine, MachineActions } from "./machine-edit.tsx";

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

/**
 * What it means that a machine runs Borg UI's agent (server/http/borg-ui-agent.ts): the
 * hub translates for it, and it lacks what borgctl's agent adds on the machine.
 */
function BorgUiAgentNote() {
  return (
    <div class="muted small" data-agent-dialect="borg-ui">
      Borg UI agent: run <code>borg-ui-agent once</code> from a timer (its <code>run</code> needs
      Borg UI's own server). It receives the repository passphrase with the job list, keeps no local
      policy, does not pin SSH host keys and cannot use passphrases kept on the machine.
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
        {/* Managing machines needs the admin role; others see the fleet, not the buttons. */}
        {isAdmin && (
          <AddMachine
            onCreated={tokens.reload}
            onDone={() => {
              machines.reload();
              tokens.reload();
            }}
          />
        )}
      </div>
      <ErrorText error={machines.error} />
      {edited && (
        <Modal label={`edit ${edited.name} dialog`} onClose={() => setEditing(null)}>
          <EditMachine
            machine={edited}
            onDone={(didSave) => {
              setEditing(null);
              setSaved(didSave ? `Saved ${edited.name}.` : null);
              if (didSave) machines.reload();
            }}
          />
        </Modal>
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
          <table class="responsive">
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
                <th>SSH key</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr data-machine={m.name}>
                  <td>{m.name}</td>
                  <td data-label="Status">
                    <StatusBadge status={m.status} />
                    {m.last_error && <div class="muted small">{m.last_error}</div>}
                  </td>
                  <td data-label="Last seen">{formatAge(m.last_seen_at, now)}</td>
                  <td data-label="Host">{m.hostname || "–"}</td>
                  <td data-label="OS / arch">{m.os ? `${m.os} / ${m.arch}` : "–"}</td>
                  <td data-label="Agent">
                    {m.agent_version || "–"}
                    {m.agent_dialect === "borg-ui" && <BorgUiAgentNote />}
                  </td>
                  <td data-label="Borg">{borgVersions(m)}</td>
                  <td data-label="Capabilities">
                    <Tags items={m.capabilities} empty="none reported" />
                  </td>
                  <td data-label="Labels">
                    <Tags
                      items={Object.entries(m.labels).map(([k, v]) => `${k}=${v}`)}
                      empty="none"
                    />
                  </td>
                  <td data-label="SSH key">
                    {m.ssh_public_key ? (
                      <details class="ssh-key">
                        <summary>{m.ssh_public_key.split(" ")[0]}</summary>
                        <CopyCommand
                          label="the machine's SSH public key"
                          command={m.ssh_public_key}
                        />
                      </details>
                    ) : (
                      <span class="muted">not reported yet</span>
                    )}
                  </td>
                  <td>
                    {isAdmin ? (
                      <MachineActions
                        machine={m}
                        onChange={machines.reload}
                        onEdit={() => {
                          setSaved(null);
                          setEditing(m.id);
                        }}
                      />
                    ) : (
                      <span class="muted small">admin only</span>
                    )}
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
