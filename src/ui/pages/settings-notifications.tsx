/** @jsxImportSource hono/jsx/dom */
/**
 * Settings, Notifications (admins): the hub's notification channels — e-mail, webhook,
 * ntfy, Healthchecks — created with the events they want, enabled or disabled, tested
 * ("Send test" queues a message the outbox delivers like any other) and each with its
 * delivery log (status, attempts, the last error). Secrets typed here are write-only:
 * the hub answers "set" in their place and the list never shows them.
 */
import { useState } from "hono/jsx/dom";
import {
  NOTIFICATION_EVENTS,
  type NotificationChannel,
  type NotificationChannelType,
} from "../../shared/protocol/api.ts";
import { api } from "../api.ts";
import { ConfirmButton, ErrorText, StatusBadge, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { formText, useAction } from "./settings-form.tsx";

const TYPE_LABELS: Record<NotificationChannelType, string> = {
  email: "E-mail (SMTP)",
  webhook: "Webhook",
  ntfy: "ntfy",
  healthchecks: "Healthchecks",
};

const EVENT_LABELS: Record<(typeof NOTIFICATION_EVENTS)[number], string> = {
  "job.failed": "a job failed",
  "job.warning": "a job completed with warnings",
  "job.succeeded": "a job succeeded",
  "repository.overdue": "a repository is overdue",
  "machine.offline": "a machine went offline",
  "box.offline": "a storage box went offline",
  "box.low_space": "a storage box is low on space",
  "plan.missed": "a plan missed its time",
};
const DEFAULT_EVENTS = new Set(["job.failed", "repository.overdue", "machine.offline"]);

function TypeFields(props: { type: NotificationChannelType }) {
  switch (props.type) {
    case "email":
      return (
        <div class="form-grid">
          <label>
            SMTP server URL
            <input
              name="smtp_url"
              required
              placeholder="smtp://alerts@mail.example.com:587"
              spellcheck={false}
            />
          </label>
          <label>
            Security
            <select name="security">
              <option value="">from the URL (smtp: STARTTLS, smtps: TLS)</option>
              <option value="starttls">STARTTLS</option>
              <option value="tls">TLS</option>
              <option value="none">none (trusted local relay only)</option>
            </select>
          </label>
          <label>
            SMTP password
            <input name="password" type="password" autocomplete="new-password" />
          </label>
          <label>
            From
            <input name="from" type="email" required placeholder="borgctl@example.com" />
          </label>
          <label>
            To (comma-separated)
            <input name="to" required placeholder="oncall@example.com" />
          </label>
        </div>
      );
    case "webhook":
      return (
        <div class="form-grid">
          <label>
            URL
            <input name="url" type="url" required placeholder="https://hooks.example.com/borg" />
          </label>
          <label>
            Signing secret (16+ characters)
            <input name="secret" type="password" minLength={16} autocomplete="new-password" />
          </label>
        </div>
      );
    case "ntfy":
      return (
        <div class="form-grid">
          <label>
            Topic URL
            <input name="url" type="url" required placeholder="https://ntfy.sh/my-backups" />
          </label>
          <label>
            Access token
            <input name="token" type="password" autocomplete="new-password" />
          </label>
          <label>
            Priority (1–5)
            <input name="priority" type="number" min={1} max={5} inputMode="numeric" />
          </label>
        </div>
      );
    case "healthchecks":
      return (
        <div class="form-grid">
          <label>
            Ping URL
            <input name="url" type="url" required placeholder="https://hc-ping.com/<uuid>" />
          </label>
          <label>
            Only repository id
            <input name="repository_id" type="number" min={1} inputMode="numeric" />
          </label>
        </div>
      );
  }
}

/** The config of the submitted form for `type`; empty optional fields are left out. */
function configOf(e: Event, type: NotificationChannelType): Record<string, unknown> {
  const text = (field: string) => formText(e, field) || undefined;
  const number = (field: string) => (text(field) ? Number(text(field)) : undefined);
  switch (type) {
    case "email":
      return {
        smtp_url: text("smtp_url"),
        security: text("security"),
        password: text("password"),
        from: text("from"),
        to: formText(e, "to")
          .split(",")
          .map((a) => a.trim())
          .filter(Boolean),
      };
    case "webhook":
      return { url: text("url"), secret: text("secret") };
    case "ntfy":
      return { url: text("url"), token: text("token"), priority: number("priority") };
    case "healthchecks":
      return { url: text("url"), repository_id: number("repository_id") };
  }
}

function CreateChannel(props: { onCreated: () => void }) {
  const action = useAction();
  const [type, setType] = useState<NotificationChannelType>("email");
  return (
    <form
      class="card"
      aria-label="new notification channel"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const events = NOTIFICATION_EVENTS.filter((ev) => data.get(`event:${ev}`) !== null);
        const request = {
          name: formText(e, "name"),
          type,
          config: configOf(e, type),
          events,
          cooldown_minutes: Number(formText(e, "cooldown") || "60"),
        } as Parameters<typeof api.createChannel>[0];
        const ok = await action.run(() => api.createChannel(request));
        if (ok) {
          form.reset();
          props.onCreated();
        }
      }}
    >
      <h3>New channel</h3>
      <div class="form-grid">
        <label>
          Channel name
          <input name="name" required maxLength={128} placeholder="e.g. on-call e-mail" />
        </label>
        <label>
          Kind
          <select
            name="type"
            onChange={(e: Event) =>
              setType((e.currentTarget as HTMLSelectElement).value as NotificationChannelType)
            }
          >
            {(Object.keys(TYPE_LABELS) as NotificationChannelType[]).map((t) => (
              <option value={t} selected={t === type}>
                {TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Re-notify after (minutes)
          <input name="cooldown" type="number" min={0} max={10080} value="60" inputMode="numeric" />
        </label>
      </div>
      <TypeFields type={type} />
      <fieldset>
        <legend>Notify when</legend>
        {NOTIFICATION_EVENTS.map((ev) => (
          <label class="inline">
            <input type="checkbox" name={`event:${ev}`} checked={DEFAULT_EVENTS.has(ev)} />{" "}
            {EVENT_LABELS[ev]}
          </label>
        ))}
      </fieldset>
      <p class="muted small">
        The same event about the same repository or machine is sent at most once per re-notify
        window (0: every time). Healthchecks channels ping /start, success and /fail for every
        backup.
      </p>
      <ErrorText error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Create channel
      </button>
    </form>
  );
}

function Deliveries(props: { channel: NotificationChannel }) {
  const now = useNow(5_000);
  const log = useLoad(() => api.deliveries(props.channel.id), [props.channel.id], 5_000);
  return (
    <section class="card" aria-label={`deliveries of ${props.channel.name}`}>
      <h3>Deliveries of {props.channel.name}</h3>
      <ErrorText error={log.error} />
      {log.data && log.data.length === 0 && <p class="empty">Nothing sent yet.</p>}
      {log.data && log.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Event</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Queued</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {log.data.map((d) => (
                <tr data-delivery={d.id} title={d.summary}>
                  <td>{d.event}</td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>{d.attempts}</td>
                  <td>{formatAge(d.created_at, now)}</td>
                  <td>{d.last_error ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ChannelRow(props: {
  channel: NotificationChannel;
  onChanged: () => void;
  onShowLog: () => void;
}) {
  const action = useAction();
  const [tested, setTested] = useState(false);
  const c = props.channel;
  return (
    <tr data-channel={c.name}>
      <td>{c.name}</td>
      <td>{TYPE_LABELS[c.type]}</td>
      <td class="small">{c.events.join(", ")}</td>
      <td>{c.enabled ? "enabled" : "disabled"}</td>
      <td>
        <span class="actions">
          <button
            type="button"
            disabled={action.busy}
            onClick={async () => {
              if (await action.run(() => api.testChannel(c.id))) {
                setTested(true);
                props.onShowLog();
              }
            }}
          >
            Send test
          </button>
          <button
            type="button"
            disabled={action.busy}
            onClick={async () => {
              if (await action.run(() => api.updateChannel(c.id, { enabled: !c.enabled })))
                props.onChanged();
            }}
          >
            {c.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" onClick={props.onShowLog}>
            Deliveries
          </button>
          <ConfirmButton
            label="Delete"
            question={`Delete ${c.name} and its delivery log?`}
            onConfirm={async () => {
              await api.deleteChannel(c.id);
              props.onChanged();
            }}
          />
        </span>
        {tested && (
          <span class="muted small" role="status">
            {" "}
            Test queued.
          </span>
        )}
        <ErrorText error={action.error} />
      </td>
    </tr>
  );
}

export function NotificationsSection() {
  const channels = useLoad(() => api.channels(), []);
  const [logOf, setLogOf] = useState<number | null>(null);
  const list = channels.data ?? [];
  const shown = list.find((c) => c.id === logOf);
  return (
    <section aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Notifications</h2>
      <p class="muted">
        Where the hub tells you that a backup failed, a repository is overdue or a machine went
        offline. Messages link to this hub and never carry a passphrase or token.
      </p>
      <ErrorText error={channels.error} />
      {channels.data && list.length === 0 && (
        <p class="empty">No channels yet. Create one below, then press Send test.</p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Events</th>
                <th>State</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <ChannelRow
                  channel={c}
                  onChanged={() => channels.reload()}
                  onShowLog={() => setLogOf(c.id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown && <Deliveries channel={shown} />}
      <CreateChannel onCreated={() => channels.reload()} />
    </section>
  );
}
