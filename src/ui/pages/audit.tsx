/** @jsxImportSource hono/jsx/dom */
/**
 * The audit trail (admins): who did what, to what, from where, newest first, 100 at a
 * time; "Older" pages back with `before=<last id>`, and the action filter asks the hub for
 * one action only. Older pages, once fetched, stay as they were.
 */
import { useState } from "hono/jsx/dom";
import { type AuditEntry, api } from "../api.ts";
import { auditActions, auditDetails } from "../audit-view.ts";
import { ErrorText } from "../components.tsx";
import { usePagedList } from "../paged-list.tsx";

const PAGE_SIZE = 100;

export function AuditPage() {
  const [action, setAction] = useState("");
  const [typed, setTyped] = useState("");
  const filter = { limit: PAGE_SIZE, action: action || undefined };
  const paged = usePagedList<AuditEntry>((before) => api.audit({ ...filter, before }), PAGE_SIZE, [
    action,
  ]);
  const { newest, rows: events, busy, loadOlder, olderError } = paged;
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
      {events.length > 0 && (
        <div class="table-wrap">
          <table class="audit">
            <thead>
              <tr>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Target</th>
                <th>IP</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr data-audit={e.action}>
                  <td>{new Date(e.at).toLocaleString()}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ?? "–"}</td>
                  <td>{e.ip ?? "–"}</td>
                  <td class="path">{auditDetails(e.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
