/** @jsxImportSource hono/jsx/dom */
/**
 * The audit trail (admins): one readable line per event ("admin created enrollment token
 * laptop"), newest first, with the raw action, target, address and details on demand;
 * 50 at a time, "Older" pages back with `before=<last id>`, and the action filter asks the
 * hub for one action only. Older pages, once fetched, stay as they were.
 */
import { useState } from "hono/jsx/dom";
import { type AuditEntry, api } from "../api.ts";
import { type AuditNames, auditActions, auditDetails, auditSummary } from "../audit-view.ts";
import { ErrorText, useLoad } from "../components.tsx";
import { usePagedList } from "../paged-list.tsx";

const PAGE_SIZE = 50;

function AuditItem(props: { event: AuditEntry; names: AuditNames | undefined }) {
  const e = props.event;
  return (
    <li data-audit={e.action}>
      <time class="muted small" datetime={e.at}>
        {new Date(e.at).toLocaleString()}
      </time>
      <span class="audit-line">{auditSummary(e, props.names)}</span>
      <details>
        <summary>Details</summary>
        <dl class="facts">
          <dt>Action</dt>
          <dd>
            <code>{e.action}</code>
          </dd>
          <dt>Actor</dt>
          <dd>{e.actor}</dd>
          <dt>Target</dt>
          <dd>{e.target ?? "–"}</dd>
          <dt>IP</dt>
          <dd>{e.ip ?? "–"}</dd>
          <dt>Details</dt>
          <dd class="path">{auditDetails(e.details)}</dd>
        </dl>
      </details>
    </li>
  );
}

export function AuditPage() {
  const [action, setAction] = useState("");
  const [typed, setTyped] = useState("");
  const filter = { limit: PAGE_SIZE, action: action || undefined };
  const paged = usePagedList<AuditEntry>((before) => api.audit({ ...filter, before }), PAGE_SIZE, [
    action,
  ]);
  const { newest, rows: events, busy, loadOlder, olderError } = paged;
  const names = useLoad(async () => {
    const [machines, repositories] = await Promise.all([api.machines(), api.repositories()]);
    return { machines, repositories };
  }, []);
  return (
    <section>
      <div class="title-row">
        <h1>Audit</h1>
        <button type="button" onClick={newest.reload}>
          Refresh
        </button>
      </div>
      <form
        class="filters"
        aria-label="audit filter"
        onSubmit={(e: Event) => {
          e.preventDefault();
          setAction(typed.trim());
        }}
      >
        <label class="inline">
          Action
          <input
            name="action"
            list="audit-actions"
            maxLength={64}
            placeholder="e.g. auth.login"
            value={typed}
            onInput={(e: Event) => setTyped((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <datalist id="audit-actions">
          {auditActions(events).map((a) => (
            <option value={a} />
          ))}
        </datalist>
        <button type="submit">Filter</button>
        {action && (
          <button
            type="button"
            onClick={() => {
              setTyped("");
              setAction("");
            }}
          >
            Show all
          </button>
        )}
      </form>
      <ErrorText error={newest.error} />
      {newest.data && events.length === 0 && (
        <p class="empty">
          {action
            ? `No "${action}" events. Check the spelling, or press "Show all".`
            : "Nothing recorded yet. Sign-ins, machine registrations and changes show up here."}
        </p>
      )}
      {/* Entries wait for the names so none reads "repository #1" first. */}
      {events.length > 0 && (names.data || names.error) && (
        <ol class="audit">
          {events.map((e) => (
            <AuditItem event={e} names={names.data} />
          ))}
        </ol>
      )}
      <div class="paging actions">
        {paged.hasOlder && events.length > 0 && (
          <button type="button" disabled={busy} onClick={loadOlder}>
            Older
          </button>
        )}
        {newest.data && !paged.hasOlder && events.length > 0 && (
          <span class="muted small">That is all of them ({events.length}).</span>
        )}
        <ErrorText error={olderError} />
      </div>
    </section>
  );
}
