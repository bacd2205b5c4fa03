/** @jsxImportSource hono/jsx/dom */
/**
 * One repository: its freshness (protected, overdue, failing, never; what is expected of
 * it and why it needs attention), its settings (never its passphrase: only where it is
 * kept), last backup, the actions that queue a job for its machine (back up, init, check, prune with
 * a retention form, compact, break lock, refresh archives) each linking to the job it
 * queued, its backup plans (repository-plans.tsx), the archives from the last listing
 * (each with a file browser to restore from), its recent jobs, and for admins (as the hub
 * allows) edit (sending only the fields that changed) and delete. Destructive actions (a
 * real prune, break lock, delete) ask first.
 */
import { useState } from "hono/jsx/dom";
import type { Job } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ConfirmButton, ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { elapsedSeconds, formatAge, formatDuration, jobKindLabel } from "../format.ts";
import { canAdminister, canRunJobs } from "../roles.ts";
import { navigate } from "../routes.ts";
import { ArchiveBrowser } from "./archive-browser.tsx";
import { ACTION_LABELS, type Queue, RepositoryActions } from "./repository-actions.tsx";
import { ArchiveList } from "./repository-archives.tsx";
import { EditRepository, Settings } from "./repository-edit.tsx";
import { FreshnessCard } from "./repository-freshness.tsx";
import { RepositoryPlans } from "./repository-plans.tsx";

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
      const [repo, machines, boxes] = await Promise.all([
        api.repository(props.id),
        api.machines(),
        api.boxes(),
      ]);
      return { repo, machines, boxes };
    },
    [props.id],
    5000,
  );
  const archives = useLoad(() => api.archives(props.id), [props.id], 5000);
  const me = useLoad(() => api.me(), []);
  // Settings decide what the machine's root-run agent reads and where it goes: admins only.
  const isAdmin = canAdminister(me.data?.role);
  // Jobs (backup, check, break lock, …) need an operator; viewers see no buttons for them.
  const canRun = canRunJobs(me.data?.role);
  const jobs = useLoad(() => api.jobs({ repository_id: props.id, limit: 20 }), [props.id], 3000);
  const [queued, setQueued] = useState<{ label: string; jobId: number } | null>(null);
  const [actionError, setActionError] = useState<{ label: string; message: string } | null>(null);
  const [editing, setEditing] = useState(false);
  const [browsing, setBrowsing] = useState<string | null>(null);
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
  // Which buttons show depends on the role: render once it is known, so a page never
  // shows buttons a moment later (or a viewer's page flickers into an operator's).
  if (!data || (me.loading && me.data === undefined)) {
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
        {isAdmin && (
          <ConfirmButton
            label="Delete repository"
            question={`Delete ${repo.name} from the hub? Its borg repository and archives stay where they are.`}
            confirmLabel="Yes, delete it"
            onConfirm={async () => {
              await api.deleteRepository(repo.id);
              navigate("/repositories");
            }}
          />
        )}
        {isAdmin && repo.box_id !== null && (
          <ConfirmButton
            label="Delete with its data"
            question={`Delete ${repo.name} and its repo on the box, with every archive in it? This cannot be undone.`}
            confirmLabel="Yes, delete everything"
            onConfirm={async () => {
              await api.deleteRepository(repo.id, true);
              navigate("/repositories");
            }}
          />
        )}
      </div>
      <ErrorText error={detail.error} />
      <div class="card" data-card="freshness">
        <FreshnessCard repo={repo} now={now} canChange={canRun} onSaved={detail.reload} />
        <h3>Last backup</h3>
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

      {canRun ? (
        <RepositoryActions queue={queue} queueQuietly={queueQuietly}>
          <div aria-live="polite" class="queued">
            {queued && (
              <p>
                {queued.label} queued as{" "}
                <Link href={`/jobs/${queued.jobId}`}>job #{queued.jobId}</Link>.
              </p>
            )}
            {actionError && <ErrorText error={`${actionError.label}: ${actionError.message}`} />}
          </div>
        </RepositoryActions>
      ) : (
        <p class="muted small">
          You can look at this repository; an operator or admin runs its jobs.
        </p>
      )}

      <RepositoryPlans repositoryId={repo.id} canChange={canRun} />

      <div class="title-row">
        <h2>Settings</h2>
        {isAdmin && !editing && (
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
          <Settings
            repo={repo}
            machineName={machine?.name ?? `#${repo.agent_machine_id}`}
            boxName={detail.data?.boxes.find((b) => b.id === repo.box_id)?.name}
          />
        </>
      )}

      <h2>Archives</h2>
      <ErrorText error={archives.error} />
      <ArchiveList listing={listing} now={now} onBrowse={setBrowsing} />
      {browsing !== null && (
        <ArchiveBrowser
          repositoryId={props.id}
          archive={browsing}
          canRestore={canRun}
          ownerMachineId={repo.agent_machine_id}
          otherMachines={data.machines.filter((m) => m.id !== repo.agent_machine_id)}
          onBox={repo.box_id !== null}
          onClose={() => setBrowsing(null)}
        />
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
