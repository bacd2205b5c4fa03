/** @jsxImportSource hono/jsx/dom */
/**
 * One repository: its settings (never its passphrase: only where it is kept), last
 * backup, the actions that queue a job for its machine (back up, init, check, prune with
 * a retention form, compact, break lock, refresh archives) each linking to the job it
 * queued, the archives from the last listing, its recent jobs, edit (sending only the
 * fields that changed) and delete. Destructive actions (a real prune, break lock, delete)
 * ask first.
 */
import { useState } from "hono/jsx/dom";
import type { Job } from "../../shared/protocol/api.ts";
import {
  ApiError,
  api,
  errorMessage,
  type RepositoryAction,
  type RepositoryDetail,
} from "../api.ts";
import { ConfirmButton, ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { elapsedSeconds, formatAge, formatDuration, jobKindLabel } from "../format.ts";
import { describedBy, Field, NO_ERRORS } from "../repository-field.tsx";
import {
  agentSecretCommand,
  editValuesOf,
  type FormErrors,
  fieldErrors,
  KEEP_COUNTS,
  type KeepCount,
  type RepositoryEditValues,
  type RetentionValues,
  repositoryUpdateBody,
  retentionRequestBody,
} from "../repository-form.ts";
import { navigate } from "../routes.ts";

type Queue = (action: RepositoryAction, body?: Record<string, unknown>) => Promise<void>;

const ACTION_LABELS: Record<RepositoryAction, string> = {
  backup: "Backup",
  init: "Initialize",
  check: "Check",
  prune: "Prune",
  compact: "Compact",
  "break-lock": "Break lock",
  list: "List archives",
};

function passphraseWhere(repo: RepositoryDetail): string {
  if (repo.passphrase_location === "agent") return "kept on the machine";
  if (repo.has_passphrase) return "stored on the hub";
  return repo.encryption === "none" ? "none (not encrypted)" : "missing: set one on the hub";
}

function Settings(props: { repo: RepositoryDetail; machineName: string }) {
  const r = props.repo;
  return (
    <dl class="facts">
      <dt>Machine</dt>
      <dd>{props.machineName}</dd>
      <dt>Location</dt>
      <dd class="path">{r.location}</dd>
      <dt>Encryption</dt>
      <dd>{r.encryption}</dd>
      <dt>Passphrase</dt>
      <dd>
        {passphraseWhere(r)}
        {r.passphrase_location === "agent" && (
          <div class="muted small">
            On the machine: <code>{agentSecretCommand(r.name)}</code>
          </div>
        )}
      </dd>
      <dt>Source paths</dt>
      <dd class="path lines">{r.source_paths.join("\n")}</dd>
      <dt>Exclude patterns</dt>
      <dd class="path lines">
        {r.exclude_patterns.length ? r.exclude_patterns.join("\n") : "none"}
      </dd>
      <dt>Compression</dt>
      <dd>{r.compression}</dd>
      <dt>Archive names</dt>
      <dd>
        <code>{r.archive_name}</code>
      </dd>
      {r.append_only && (
        <>
          <dt>Append only</dt>
          <dd>yes</dd>
        </>
      )}
    </dl>
  );
}

/** The edit form: PATCHes only what changed; the hub's refusals show at their fields. */
function EditRepository(props: { repo: RepositoryDetail; onDone: (saved: boolean) => void }) {
  const r = props.repo;
  const [values, setValues] = useState<RepositoryEditValues>(editValuesOf(r));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const passphraseOnHub = r.passphrase_location === "hub" && r.encryption !== "none";
  const set =
    (key: keyof RepositoryEditValues) =>
    (e: Event): void => {
      const value = (e.currentTarget as HTMLInputElement).value;
      setValues((v) => ({ ...v, [key]: value }));
    };
  const text = (field: "name" | "compression" | "archive_name", label: string, hint?: string) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      <input
        id={`repo-${field}`}
        name={field}
        value={values[field]}
        onInput={set(field)}
        aria-invalid={errors.fields[field] ? "true" : undefined}
        aria-describedby={describedBy(field, errors, hint !== undefined)}
      />
    </Field>
  );
  const list = (field: "source_paths" | "exclude_patterns", label: string, hint: string) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      <textarea
        id={`repo-${field}`}
        name={field}
        rows={3}
        value={values[field]}
        onInput={set(field)}
        aria-invalid={errors.fields[field] ? "true" : undefined}
        aria-describedby={describedBy(field, errors, true)}
      />
    </Field>
  );
  return (
    <form
      class="card repo-form"
      aria-label="edit repository"
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const body = repositoryUpdateBody(r, values, passphraseOnHub);
        if (Object.keys(body).length === 0) {
          setErrors({ fields: {}, general: "Nothing changed; there is nothing to save." });
          return;
        }
        setBusy(true);
        setErrors(NO_ERRORS);
        try {
          await api.updateRepository(r.id, body);
        } catch (err) {
          setErrors(
            err instanceof ApiError ? fieldErrors(err) : { fields: {}, general: errorMessage(err) },
          );
          setBusy(false);
          return;
        }
        props.onDone(true);
      }}
    >
      <h3 class="form-title">Edit settings</h3>
      <p class="muted small">
        Only the fields you change are sent. The machine, location and encryption stay as they are.
      </p>
      <ErrorText error={errors.general} />
      <div class="form-grid">
        {text("name", "Name")}
        {text("compression", "Compression", "borg's --compression, e.g. lz4 or zstd,3")}
      </div>
      {passphraseOnHub && (
        <Field
          field="passphrase"
          label="New passphrase"
          errors={errors}
          hint="Leave empty to keep the stored one. Changing it here does not change the repository's key; use it when the stored one is wrong."
        >
          <input
            id="repo-passphrase"
            name="passphrase"
            type="password"
            autocomplete="new-password"
            value={values.passphrase}
            onInput={set("passphrase")}
            aria-invalid={errors.fields.passphrase ? "true" : undefined}
            aria-describedby={describedBy("passphrase", errors, true)}
          />
        </Field>
      )}
      {list("source_paths", "Source paths", "One path a line, as the machine sees it.")}
      {list("exclude_patterns", "Exclude patterns", "One borg pattern a line; optional.")}
      {text("archive_name", "Archive name template", "e.g. {hostname}-{now}")}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save changes
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ActionButton(props: { label: string; action: RepositoryAction; queue: Queue }) {
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

function CheckForm(props: { queue: Queue }) {
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

function PruneForm(props: { queue: Queue }) {
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

function JobsTable(props: { jobs: Job[]; now: number }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>Status</th>
            <th>Created</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {props.jobs.map((job) => (
            <tr data-job={job.id}>
              <td>
                <Link href={`/jobs/${job.id}`}>
                  {jobKindLabel(job.type)} #{job.id}
                </Link>
              </td>
              <td>
                <StatusBadge status={job.status} />
              </td>
              <td>{formatAge(job.created_at, props.now)}</td>
              <td>{formatDuration(elapsedSeconds(job.started_at, job.completed_at, props.now))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RepositoryDetailPage(props: { id: number }) {
  const now = useNow(5000);
  const detail = useLoad(
    async () => {
      const [repo, machines] = await Promise.all([api.repository(props.id), api.machines()]);
      return { repo, machines };
    },
    [props.id],
    5000,
  );
  const archives = useLoad(() => api.archives(props.id), [props.id], 5000);
  const jobs = useLoad(() => api.jobs({ repository_id: props.id, limit: 20 }), [props.id], 3000);
  const [queued, setQueued] = useState<{ label: string; jobId: number } | null>(null);
  const [actionError, setActionError] = useState<{ label: string; message: string } | null>(null);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);

  const queue: Queue = async (action, body = {}) => {
    const label = ACTION_LABELS[action];
    setActionError(null);
    try {
      const accepted = await api.repositoryAction(props.id, action, body);
      setQueued({ label, jobId: accepted.job_id });
      jobs.reload();
    } catch (e) {
      setQueued(null);
      setActionError({ label, message: errorMessage(e) });
      throw e;
    }
  };
  // Buttons and forms show the error through actionError; don't also reject at them.
  const queueQuietly: Queue = (action, body) => queue(action, body).catch(() => {});

  const data = detail.data;
  if (!data) {
    return (
      <section>
        <p>
          <Link href="/repositories">← Repositories</Link>
        </p>
        <h1>Repository #{props.id}</h1>
        <ErrorText error={detail.error} />
        {!detail.error && <p class="muted">Loading…</p>}
      </section>
    );
  }
  const repo = data.repo;
  const machine = data.machines.find((m) => m.id === repo.agent_machine_id);
  const listing = archives.data;
  return (
    <section>
      <p>
        <Link href="/repositories">← Repositories</Link>
      </p>
      <div class="title-row">
        <h1>{repo.name}</h1>
        <ConfirmButton
          label="Delete repository"
          question={`Delete ${repo.name} from the hub? Its borg repository and archives stay where they are.`}
          confirmLabel="Yes, delete it"
          onConfirm={async () => {
            await api.deleteRepository(repo.id);
            navigate("/repositories");
          }}
        />
      </div>
      <ErrorText error={detail.error} />
      <div class="card">
        <h2 class="first">Last backup</h2>
        <p>
          {formatAge(repo.last_backup_at, now)}
          {repo.last_result && repo.last_job_id && (
            <>
              {" "}
              <Link href={`/jobs/${repo.last_job_id}`}>
                <StatusBadge status={repo.last_result} />
              </Link>
            </>
          )}
        </p>
        {machine?.status === "revoked" && (
          <p class="error">Its machine is revoked: jobs for this repository will not run.</p>
        )}
      </div>

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
      <div aria-live="polite" class="queued">
        {queued && (
          <p>
            {queued.label} queued as <Link href={`/jobs/${queued.jobId}`}>job #{queued.jobId}</Link>
            .
          </p>
        )}
        {actionError && <ErrorText error={`${actionError.label}: ${actionError.message}`} />}
      </div>
      <div class="action-forms">
        <CheckForm queue={queueQuietly} />
        <PruneForm queue={queueQuietly} />
      </div>

      <div class="title-row">
        <h2>Settings</h2>
        {!editing && (
          <button
            type="button"
            onClick={() => {
              setSaved(false);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
      </div>
      {editing ? (
        <EditRepository
          repo={repo}
          onDone={(didSave) => {
            setEditing(false);
            setSaved(didSave);
            if (didSave) detail.reload();
          }}
        />
      ) : (
        <>
          <p class="muted small" aria-live="polite">
            {saved ? "Saved." : ""}
          </p>
          <Settings repo={repo} machineName={machine?.name ?? `#${repo.agent_machine_id}`} />
        </>
      )}

      <h2>Archives</h2>
      <ErrorText error={archives.error} />
      {listing && (
        <p class="muted small">
          {listing.listed_at ? `Listed ${formatAge(listing.listed_at, now)}.` : "Never listed yet."}
        </p>
      )}
      {listing && listing.archives.length === 0 && (
        <p class="empty">
          No archives known. Press "Refresh archives" to list them on the machine, or "Back up now"
          to make the first one.
        </p>
      )}
      {listing && listing.archives.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Time</th>
                <th>Host</th>
              </tr>
            </thead>
            <tbody>
              {listing.archives.map((a) => (
                <tr data-archive={a.name}>
                  <td class="path">{a.name}</td>
                  <td>
                    {a.time || a.start ? new Date(a.time ?? a.start ?? "").toLocaleString() : "–"}
                  </td>
                  <td>{a.hostname ?? "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Recent jobs</h2>
      <ErrorText error={jobs.error} />
      {jobs.data && jobs.data.length === 0 && (
        <p class="empty">
          No jobs yet. A new repository needs "Init" first (skip it when importing).
        </p>
      )}
      {jobs.data && jobs.data.length > 0 && <JobsTable jobs={jobs.data} now={now} />}
    </section>
  );
}
