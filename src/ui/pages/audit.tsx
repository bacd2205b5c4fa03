/** @jsxImportSource hono/jsx/dom */
/**
 * The audit trail (admins): who did what, to what, from where, newest first, 100 at a
 * time; "Older" pages back with `before=<last id>`, and the action filter asks the hub for
 * one action only. Older pages, once fetched, stay as they were.
 */
import { useEffect, useState } from "hono/jsx/dom";
import { type AuditEntry, api, errorMessage } from "../api.ts";
import { auditActions, auditDetails } from "../audit-view.ts";
import { ErrorText, useLoad } from "../components.tsx";
import { appendOlder, olderCursor } from "../job-paging.ts";

const PAGE_SIZE = 100;

export function AuditPage() {
  const [action, setAction] = useState("");
  const [typed, setTyped] = useState("");
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<number | null | undefined>(undefined);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const filter = { limit: PAGE_SIZE, action: action || undefined };
  const newest = useLoad(() => api.audit(filter), [action]);
  useEffect(() => {
    setOlder([]);
    setCursor(undefined);
    setOlderError(null);
  }, [action]);

  const firstPage = newest.data ?? [];
  const events = appendOlder(firstPage, older);
  const next = cursor === undefined ? olderCursor(firstPage, PAGE_SIZE) : cursor;
  const loadOlder = async () => {
    if (next === null) return;
    setBusy(true);
    setOlderError(null);
    try {
      const page = await api.audit({ ...filter, before: next });
      setOlder((shown) => appendOlder(appendOlder(firstPage, shown), page));
      setCursor(olderCursor(page, PAGE_SIZE));
    } catch (e) {
      setOlderError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
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
        {next !== null && events.length > 0 && (
          <button type="button" disabled={busy} onClick={loadOlder}>
            Older
          </button>
        )}
        {newest.data && next === null && events.length > 0 && (
          <span class="muted small">That is all of them ({events.length}).</span>
        )}
        <ErrorText error={olderError} />
      </div>
    </section>
  );
}
