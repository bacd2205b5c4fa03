/** @jsxImportSource hono/jsx/dom */
/**
 * Storage boxes: each one's status (the hub refreshes it every minute), versions, free
 * space as a bar, and the repos on it with their size and last write; admins register a
 * box (URL + token; the hub checks the box answers before it keeps it) and delete one
 * that no repository uses. The token is typed once and never shown again.
 */
import { useState } from "hono/jsx/dom";
import type { Box } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ConfirmButton, ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { formatAge, formatBytes } from "../format.ts";
import { canAdminister } from "../roles.ts";

function SpaceBar(props: { box: Box }) {
  const { free_bytes: free, total_bytes: total } = props.box;
  if (free === null || total === null || total <= 0) return <span class="muted">unknown</span>;
  const used = Math.min(100, Math.max(0, ((total - free) / total) * 100));
  return (
    <div class="space" title={`${formatBytes(total - free)} used of ${formatBytes(total)}`}>
      <meter
        class="space-bar"
        aria-label={`space used on ${props.box.name}`}
        min={0}
        max={100}
        high={90}
        value={Math.round(used)}
      />
      <span class="muted small">
        {formatBytes(free)} free of {formatBytes(total)}
      </span>
    </div>
  );
}

function BoxRepos(props: { box: Box; now: number }) {
  const repos = useLoad(() => api.boxRepos(props.box.id), [props.box.id], 30_000);
  if (repos.error) return <ErrorText error={repos.error} />;
  if (!repos.data) return <p class="muted">Loading repos…</p>;
  if (repos.data.repos.length === 0) return <p class="empty">No repos on this box yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Repo</th>
            <th>Size</th>
            <th>Last write</th>
            <th>Append-only</th>
            <th>Repository</th>
          </tr>
        </thead>
        <tbody>
          {repos.data.repos.map((r) => (
            <tr data-box-repo={r.name}>
              <td>
                <code>{r.name}</code>
              </td>
              <td>{formatBytes(r.size_bytes)}</td>
              <td>{r.last_write_at ? formatAge(r.last_write_at, props.now) : "never"}</td>
              <td>{r.append_only ? "yes" : "no"}</td>
              <td>
                {r.repository_id ? (
                  <Link href={`/repositories/${r.repository_id}`}>open</Link>
                ) : (
                  <span class="muted">not in the hub</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RegisterBox(props: { onRegistered: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return (
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        Register box
      </button>
    );
  }
  return (
    <form
      class="card"
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget as HTMLFormElement);
        const text = (name: string) => String(form.get(name) ?? "").trim();
        setBusy(true);
        setError(null);
        try {
          await api.createBox({
            name: text("name"),
            url: text("url"),
            token: text("token"),
            ...(text("ssh_host") ? { ssh_host: text("ssh_host") } : {}),
            ...(text("ssh_port") ? { ssh_port: Number(text("ssh_port")) } : {}),
            ...(text("ssh_user") ? { ssh_user: text("ssh_user") } : {}),
          });
        } catch (err) {
          setError(errorMessage(err));
          setBusy(false);
          return;
        }
        setBusy(false);
        setOpen(false);
        props.onRegistered();
      }}
    >
      <h2>Register a storage box</h2>
      <p class="muted">
        The box's address and the token <code>borgctl box</code> (or borgbox) was started with. The
        hub asks the box for its <code>/info</code> first, and pins the SSH host keys it advertises.
      </p>
      <ErrorText error={error} />
      <div class="form-grid">
        <label>
          Name
          <input name="name" maxLength={128} placeholder="e.g. nas" />
        </label>
        <label>
          URL
          <input name="url" placeholder="http://box.lan:9999" />
        </label>
        <label>
          Token
          <input name="token" type="password" autocomplete="off" />
        </label>
        <label>
          SSH host (default: the URL's host)
          <input name="ssh_host" placeholder="box.lan" />
        </label>
        <label>
          SSH port
          <input name="ssh_port" inputMode="numeric" placeholder="22" />
        </label>
        <label>
          SSH user
          <input name="ssh_user" placeholder="borg" />
        </label>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Register
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function BoxesPage() {
  const now = useNow();
  const boxes = useLoad(() => api.boxes(), [], 30_000);
  const me = useLoad(() => api.me(), []);
  const isAdmin = canAdminister(me.data?.role);
  const list = boxes.data ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Storage boxes</h1>
      </div>
      {isAdmin && <RegisterBox onRegistered={boxes.reload} />}
      <ErrorText error={boxes.error} />
      {boxes.data && list.length === 0 && (
        <p class="empty">
          No boxes yet. Start one with <code>borgctl box</code> on the server that keeps the backups
          {isAdmin ? ', then press "Register box".' : "; an admin registers it."}
        </p>
      )}
      {list.map((box) => (
        <article class="card box" data-box={box.name}>
          <div class="title-row">
            <h2>{box.name}</h2>
            <StatusBadge status={box.status} />
          </div>
          {box.status === "offline" && box.last_error && (
            <p class="error">Not reachable: {box.last_error}</p>
          )}
          <dl class="facts">
            <dt>Address</dt>
            <dd>
              <code>{box.url}</code>, SSH{" "}
              <code>
                {box.ssh_user}@{box.ssh_host}:{box.ssh_port}
              </code>
            </dd>
            <dt>Free space</dt>
            <dd>
              <SpaceBar box={box} />
            </dd>
            <dt>Versions</dt>
            <dd>
              box {box.version ?? "?"}, borg {box.borg_version ?? "?"}
            </dd>
            <dt>Last seen</dt>
            <dd>{formatAge(box.last_seen_at, now)}</dd>
            <dt>Host keys</dt>
            <dd>
              {box.ssh_host_keys.length === 0
                ? "none advertised: repositories cannot be created here"
                : box.ssh_host_keys.map((k) => k.split(" ")[0]).join(", ")}
            </dd>
          </dl>
          <h3>Repos</h3>
          <BoxRepos box={box} now={now} />
          {isAdmin && (
            <div class="actions">
              <ConfirmButton
                label="Delete"
                question={`Remove ${box.name} from the hub? Its repos stay on the box.`}
                onConfirm={async () => {
                  await api.deleteBox(box.id);
                  boxes.reload();
                }}
              />
            </div>
          )}
        </article>
      ))}
    </section>
  );
}
