/** @jsxImportSource hono/jsx/dom */
/**
 * Repositories with their freshness (protected, overdue, failing, never, and why), last
 * success, next planned backup, "Back up now" (operators and admins), and (admins
 * only, as the hub allows) the "New repository" form. At phone width the table becomes
 * one card per repository.
 */
import { useState } from "hono/jsx/dom";
import type { Repository } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ErrorText, FreshnessBadge, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { attentionReason, lastFinishedJobs, repositoryHealth } from "../fleet.ts";
import { formatAge } from "../format.ts";
import { nextRunByRepository, nextRunLabel } from "../plan-form.ts";
import { canAdminister, canRunJobs } from "../roles.ts";
import { navigate } from "../routes.ts";
import { NewRepository } from "./repository-new.tsx";

function BackupNow(props: { repo: Repository }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span>
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const accepted = await api.backupNow(props.repo.id);
            navigate(`/jobs/${accepted.job_id}`);
          } catch (e) {
            setError(errorMessage(e));
            setBusy(false);
          }
        }}
      >
        Back up now
      </button>
      <ErrorText error={error} />
    </span>
  );
}

export function RepositoriesPage() {
  const now = useNow();
  const data = useLoad(
    async () => {
      const [repositories, machines, boxes, plans, jobs] = await Promise.all([
        api.repositories(),
        api.machines(),
        api.boxes(),
        api.plans(),
        api.jobs({ limit: 100 }),
      ]);
      // The newest finished jobs: a failed init makes a never-backed-up repository failing.
      return {
        repositories,
        machines,
        boxes,
        nextRuns: nextRunByRepository(plans),
        last: lastFinishedJobs(jobs),
      };
    },
    [],
    10_000,
  );
  const me = useLoad(() => api.me(), []);
  // A repository decides what the machine's root-run agent reads and where it sends it,
  // so only admins create one; others see the list and "Back up now".
  const isAdmin = canAdminister(me.data?.role);
  const canRun = canRunJobs(me.data?.role);
  const machineName = (id: number) =>
    data.data?.machines.find((m) => m.id === id)?.name ?? `#${id}`;
  const repositories = data.data?.repositories ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Repositories</h1>
      </div>
      {data.data && isAdmin && (
        <NewRepository
          machines={data.data.machines}
          boxes={data.data.boxes}
          onCreated={(repo) => navigate(`/repositories/${repo.id}`)}
        />
      )}
      <ErrorText error={data.error} />
      {data.data && repositories.length === 0 && (
        <p class="empty">
          {isAdmin
            ? 'No repositories yet. Press "New repository" to create one on a machine, or to import one that already exists.'
            : "No repositories yet. An admin creates them."}
        </p>
      )}
      {repositories.length > 0 && !(me.loading && me.data === undefined) && (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th>Name</th>
                <th>Machine</th>
                <th>Location</th>
                <th>Freshness</th>
                <th>Last success</th>
                <th>Result</th>
                <th>Next backup</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {repositories.map((r) => (
                <tr data-repository={r.name}>
                  <td>
                    <Link href={`/repositories/${r.id}`}>{r.name}</Link>
                  </td>
                  <td data-label="Machine">{machineName(r.agent_machine_id)}</td>
                  <td data-label="Location" class="path">
                    {r.location}
                  </td>
                  <td data-label="Freshness">
                    <FreshnessBadge health={repositoryHealth(r, data.data?.last.get(r.id))} />
                    {attentionReason(r, now, data.data?.last.get(r.id)) && (
                      <div class="reason small">
                        {attentionReason(r, now, data.data?.last.get(r.id))}
                      </div>
                    )}
                  </td>
                  <td data-label="Last success">{formatAge(r.freshness.last_success_at, now)}</td>
                  <td data-label="Result">
                    {r.last_result && r.last_job_id ? (
                      <Link href={`/jobs/${r.last_job_id}`}>
                        <StatusBadge status={r.last_result} />
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td data-label="Next backup" data-next-run>
                    {nextRunLabel(data.data?.nextRuns.get(r.id), now)}
                  </td>
                  <td>{canRun && <BackupNow repo={r} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
