/** @jsxImportSource hono/jsx/dom */
/**
 * The repository page's actions that take options or need a busy state: a button that
 * queues one job, the check form and the prune form with its retention rules (a real prune
 * asks first). `Queue` is how they ask the page to queue a job; the page shows the result.
 */
import type { Child } from "hono/jsx";
import { useState } from "hono/jsx/dom";
import type { RepositoryAction } from "../api.ts";
import { ConfirmButton, ErrorText } from "../components.tsx";
import {
  KEEP_COUNTS,
  type KeepCount,
  type RetentionValues,
  retentionRequestBody,
} from "../repository-form.ts";

export type Queue = (action: RepositoryAction, body?: Record<string, unknown>) => Promise<void>;

export const ACTION_LABELS: Record<RepositoryAction, string> = {
  backup: "Backup",
  init: "Initialize",
  check: "Check",
  prune: "Prune",
  compact: "Compact",
  "break-lock": "Break lock",
  list: "List archives",
};

export function ActionButton(props: { label: string; action: RepositoryAction; queue: Queue }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await props.queue(props.action);
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.label}
    </button>
  );
}

export function CheckForm(props: { queue: Queue }) {
  const [repositoryOnly, setRepositoryOnly] = useState(false);
  const [verifyData, setVerifyData] = useState(false);
  return (
    <form
      class="card"
      aria-labelledby="check-title"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        await props.queue("check", { repository_only: repositoryOnly, verify_data: verifyData });
      }}
    >
      <h3 id="check-title" class="form-title">
        Check
      </h3>
      <label class="inline">
        <input
          type="checkbox"
          checked={repositoryOnly}
          onChange={(e: Event) => setRepositoryOnly((e.currentTarget as HTMLInputElement).checked)}
        />
        Repository only (skip the archives)
      </label>
      <label class="inline">
        <input
          type="checkbox"
          checked={verifyData}
          onChange={(e: Event) => setVerifyData((e.currentTarget as HTMLInputElement).checked)}
        />
        Verify data (reads every chunk; slow)
      </label>
      <div class="actions">
        <button type="submit">Check</button>
      </div>
    </form>
  );
}

export function PruneForm(props: { queue: Queue }) {
  const [values, setValues] = useState<RetentionValues>({
    counts: {},
    keep_within: "",
    dry_run: true,
  });
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const checked = retentionRequestBody(values);
  const send = async () => {
    if (!checked.ok) return;
    setAsking(false);
    await props.queue("prune", checked.body);
  };
  return (
    <form
      class="card"
      aria-labelledby="prune-title"
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        if (!checked.ok) {
          setError(checked.error);
          return;
        }
        setError(null);
        if (checked.destructive) setAsking(true);
        else await send();
      }}
    >
      <h3 id="prune-title" class="form-title">
        Prune
      </h3>
      <p class="muted small">
        Keep rules decide which archives stay; every other archive is deleted. Leave a rule empty to
        not use it.
      </p>
      <div class="keep-grid">
        {KEEP_COUNTS.map((rule: KeepCount) => (
          <label>
            {rule.replace("keep_", "Keep ")}
            <input
              name={rule}
              inputMode="numeric"
              value={values.counts[rule] ?? ""}
              onInput={(e: Event) => {
                const value = (e.currentTarget as HTMLInputElement).value;
                setValues((v) => ({ ...v, counts: { ...v.counts, [rule]: value } }));
              }}
            />
          </label>
        ))}
        <label>
          Keep within
          <input
            name="keep_within"
            placeholder="e.g. 7d"
            value={values.keep_within}
            onInput={(e: Event) => {
              const value = (e.currentTarget as HTMLInputElement).value;
              setValues((v) => ({ ...v, keep_within: value }));
            }}
          />
        </label>
      </div>
      <label class="inline">
        <input
          type="checkbox"
          name="dry_run"
          checked={values.dry_run}
          onChange={(e: Event) => {
            const dryRun = (e.currentTarget as HTMLInputElement).checked;
            setValues((v) => ({ ...v, dry_run: dryRun }));
            setAsking(false);
          }}
        />
        Dry run (only list what would be deleted)
      </label>
      <ErrorText error={error} />
      {asking ? (
        <div class="confirm asking">
          <span>Prune for real? Archives outside the keep rules are deleted for good.</span>
          <button type="button" class="danger" onClick={send}>
            Yes, delete archives
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            Keep them
          </button>
        </div>
      ) : (
        <div class="actions">
          <button type="submit" class={values.dry_run ? "" : "danger"}>
            {values.dry_run ? "Prune (dry run)" : "Prune"}
          </button>
        </div>
      )}
    </form>
  );
}

/**
 * Every job the page can queue (operators and admins only; the page decides); `children`
 * (what was queued, or why not) goes between the buttons and the forms.
 */
export function RepositoryActions(props: { queue: Queue; queueQuietly: Queue; children?: Child }) {
  const { queue, queueQuietly } = props;
  return (
    <>
      <h2>Actions</h2>
      <div class="actions">
        <ActionButton label="Back up now" action="backup" queue={queueQuietly} />
        <ActionButton label="Init" action="init" queue={queueQuietly} />
        <ActionButton label="Compact" action="compact" queue={queueQuietly} />
        <ActionButton label="Refresh archives" action="list" queue={queueQuietly} />
        <ConfirmButton
          label="Break lock"
          question="Break the lock? Only when no borg is running on it, or the repository can be damaged."
          confirmLabel="Yes, break the lock"
          onConfirm={() => queue("break-lock")}
        />
      </div>
      {props.children}
      <div class="action-forms">
        <CheckForm queue={queueQuietly} />
        <PruneForm queue={queueQuietly} />
      </div>
    </>
  );
}
