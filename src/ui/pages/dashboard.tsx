/** @jsxImportSource hono/jsx/dom */
/**
 * The fleet at a glance: machines online/offline, repositories by attention (a failed
 * job of any kind, a failed init too, shows as failing with its reason) with their next
 * planned backup, active jobs.
 * Colour marks only what is wrong: a count is red when it is a problem and not zero.
 */
import type { Job, Machine, Repository } from "../../shared/protocol/api.ts";
import { api } from "../api.ts";
import { ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import {
  activeJobs,
  countMachines,
  failureSummary,
  lastFinishedJobs,
  repositoriesByAttention,
  repositoryHealth,
} from "../fleet.ts";
import { formatAge } from "../format.ts";
import { jobSummary, machineLabel } from "../job-names.ts";
import { nextRunByRepository, nextRunLabel } from "../plan-form.ts";
import { JobProgressBar } from "./job-detail.tsx";

function RepositoryResult(props: { repo: Repository; lastJob: Job | undefined }) {
  const { repo, lastJob } = props;
  if (lastJob?.status === "failed") {
    return (
      <>
        <Link href={`/jobs/${lastJob.id}`}>
          <StatusBadge status="failed" />
        </Link>
        <div class="reason small">{failureSummary(lastJob)}</div>
      </>
    );
  }
  if (!repo.last_result) return <>–</>;
  return repo.last_job_id ? (
    <Link href={`/jobs/${repo.last_job_id}`}>
      <StatusBadge status={repo.last_result} />
    </Link>
  ) : (
    <StatusBadge status={repo.last_result} />
  );
}

function RepositoryTable(props: {
  repositories: Repository[];
  machines: Machine[];
  jobs: Job[];
  nextRuns: Map<number, string | null>;
  now: number;
}) {
  const last = lastFinishedJobs(props.jobs);
  return (
    <div class="table-wrap">
      <table class="responsive">
        <thead>
          <tr>
            <th>Repository</th>
            <th>Machine</th>
            <th>Last backup</th>
            <th>Result</th>
            <th>Next backup</th>
          </tr>
        </thead>
        <tbody>
          {repositoriesByAttention(props.repositories, props.now, last).map((r) => (
            <tr
              data-repository={r.name}
              class={`health-${repositoryHealth(r, props.now, last.get(r.id))}`}
            >
              <td>
                <Link href={`/repositories/${r.id}`}>{r.name}</Link>
              </td>
              <td data-label="Machine">{machineLabel(props, r.agent_machine_id)}</td>
              <td data-label="Last backup">{formatAge(r.last_backup_at, props.now)}</td>
              <td data-label="Result">
                <RepositoryResult repo={r} lastJob={last.get(r.id)} />
              </td>
              <td data-label="Next backup" data-next-run>
                {nextRunLabel(props.nextRuns.get(r.id), props.now)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DashboardPage() {
  const now = useNow();
  const fleet = useLoad(
    async () => {
      const [machines, repositories, jobs, plans] = await Promise.all([
        api.machines(),
        api.repositories(),
        api.jobs({ limit: 100 }),
        api.plans(),
      ]);
      return { machines, repositories, jobs, nextRuns: nextRunByRepository(plans) };
    },
    [],
    5000,
  );
  if (!fleet.data) {
    return (
      <section>
        <h1>Dashboard</h1>
        <ErrorText error={fleet.error} />
        {fleet.loading && <p class="muted">Loading…</p>}
      </section>
    );
  }
  const { machines, repositories, jobs, nextRuns } = fleet.data;
  const counts = countMachines(machines);
  const active = activeJobs(jobs);
  const last = lastFinishedJobs(jobs);
  const failing = repositories.filter(
    (r) => repositoryHealth(r, now, last.get(r.id)) === "failing",
  ).length;
  const problem = (n: number) => (n > 0 ? "stat tone-bad" : "stat");
  return (
    <section>
      <h1>Dashboard</h1>
      <ErrorText error={fleet.error} />
      <div class="stats">
        <Link href="/machines" class="stat">
          <strong>{counts.online}</strong> online
        </Link>
        <Link href="/machines" class={problem(counts.offline)}>
          <strong>{counts.offline}</strong> offline
        </Link>
        <Link href="/machines" class="stat">
          <strong>{counts.other}</strong> pending, disabled or revoked
        </Link>
        <Link href="/repositories" class={problem(failing)}>
          <strong>{failing}</strong> repositories failing
        </Link>
        <Link href="/jobs" class="stat">
          <strong>{active.length}</strong> jobs running or queued
        </Link>
      </div>

      <h2>Repositories</h2>
      {repositories.length === 0 ? (
        <p class="empty">
          No repositories yet. Add a machine first, then create one on the Repositories page.
        </p>
      ) : (
        <RepositoryTable
          repositories={repositories}
          machines={machines}
          jobs={jobs}
          nextRuns={nextRuns}
          now={now}
        />
      )}

      <h2>Running jobs</h2>
      {active.length === 0 ? (
        <p class="empty">Nothing is running.</p>
      ) : (
        <ul class="job-cards">
          {active.map((j) => (
            <li class="card" data-job={j.id}>
              <Link href={`/jobs/${j.id}`}>{jobSummary(j, { repositories, machines })}</Link>{" "}
              <StatusBadge status={j.status} />
              <JobProgressBar job={j} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
