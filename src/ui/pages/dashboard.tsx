/** @jsxImportSource hono/jsx/dom */
/**
 * The fleet at a glance, freshness first: how many repositories are protected, overdue,
 * failing, never backed up (the hub's answer, evaluated continuously), then the ones
 * that need attention with their machine, last success and why (a failed init shows as
 * failing with its reason), the protected ones, machines, active jobs. Colour marks only
 * what is wrong: a count is coloured when it is a problem and not zero. Each repository
 * shows its next planned backup.
 */
import type { Job, Machine, Repository } from "../../shared/protocol/api.ts";
import { api } from "../api.ts";
import { ErrorText, FreshnessBadge, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import {
  activeJobs,
  attentionReason,
  countFreshness,
  countMachines,
  lastFinishedJobs,
  repositoriesByAttention,
  repositoryHealth,
} from "../fleet.ts";
import { formatAge } from "../format.ts";
import { jobSummary, machineLabel } from "../job-names.ts";
import { nextRunByRepository, nextRunLabel } from "../plan-form.ts";
import { JobProgressBar } from "./job-detail.tsx";

function RepositoryResult(props: { repo: Repository }) {
  const { repo } = props;
  if (!repo.last_result) return <>–</>;
  return repo.last_job_id ? (
    <Link href={`/jobs/${repo.last_job_id}`}>
      <StatusBadge status={repo.last_result} />
    </Link>
  ) : (
    <StatusBadge status={repo.last_result} />
  );
}

interface TableProps {
  repositories: Repository[];
  machines: Machine[];
  last: ReadonlyMap<number, Job>;
  nextRuns: ReadonlyMap<number, string | null>;
  now: number;
}

function NextRun(props: { repositoryId: number; nextRuns: TableProps["nextRuns"]; now: number }) {
  return (
    <td data-label="Next backup" data-next-run>
      {nextRunLabel(props.nextRuns.get(props.repositoryId), props.now)}
    </td>
  );
}

/** Failing, overdue and never-backed-up repositories: machine, last success, and why. */
function AttentionTable(props: TableProps) {
  return (
    <div class="table-wrap">
      <table class="responsive" data-table="attention">
        <thead>
          <tr>
            <th>Repository</th>
            <th>Machine</th>
            <th>Last success</th>
            <th>Why</th>
            <th>Next backup</th>
          </tr>
        </thead>
        <tbody>
          {props.repositories.map((r) => {
            const lastJob = props.last.get(r.id);
            const health = repositoryHealth(r, lastJob);
            const reason = attentionReason(r, props.now, lastJob);
            return (
              <tr data-repository={r.name} class={`health-${health}`}>
                <td>
                  <Link href={`/repositories/${r.id}`}>{r.name}</Link>
                </td>
                <td data-label="Machine">{machineLabel(props, r.agent_machine_id)}</td>
                <td data-label="Last success">
                  {formatAge(r.freshness.last_success_at, props.now)}
                </td>
                <td data-label="Why">
                  <FreshnessBadge health={health} />
                  <div class="reason small">
                    {lastJob?.status === "failed" && health === "failing" ? (
                      <Link href={`/jobs/${lastJob.id}`}>{reason}</Link>
                    ) : (
                      reason
                    )}
                  </div>
                </td>
                <NextRun repositoryId={r.id} nextRuns={props.nextRuns} now={props.now} />
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ProtectedTable(props: TableProps) {
  return (
    <div class="table-wrap">
      <table class="responsive" data-table="protected">
        <thead>
          <tr>
            <th>Repository</th>
            <th>Machine</th>
            <th>Last success</th>
            <th>Result</th>
            <th>Next backup</th>
          </tr>
        </thead>
        <tbody>
          {props.repositories.map((r) => (
            <tr data-repository={r.name} class="health-ok">
              <td>
                <Link href={`/repositories/${r.id}`}>{r.name}</Link>
              </td>
              <td data-label="Machine">{machineLabel(props, r.agent_machine_id)}</td>
              <td data-label="Last success">{formatAge(r.freshness.last_success_at, props.now)}</td>
              <td data-label="Result">
                <RepositoryResult repo={r} />
              </td>
              <NextRun repositoryId={r.id} nextRuns={props.nextRuns} now={props.now} />
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
  const freshness = countFreshness(repositories, last);
  const ordered = repositoriesByAttention(repositories, last);
  const attention = ordered.filter((r) => repositoryHealth(r, last.get(r.id)) !== "ok");
  const protectedRepos = ordered.filter((r) => repositoryHealth(r, last.get(r.id)) === "ok");
  // Colour only where a count is a problem and not zero ("0 failing" is plain text).
  const problem = (n: number) => (n > 0 ? "stat tone-bad" : "stat");
  const concern = (n: number) => (n > 0 ? "stat tone-warn" : "stat");
  return (
    <section>
      <h1>Dashboard</h1>
      <ErrorText error={fleet.error} />
      <div class="stats" data-stats="freshness">
        <Link href="/repositories" class="stat">
          <strong>{freshness.ok}</strong> protected
        </Link>
        <Link href="/repositories" class={concern(freshness.overdue)}>
          <strong>{freshness.overdue}</strong> overdue
        </Link>
        <Link href="/repositories" class={problem(freshness.failing)}>
          <strong>{freshness.failing}</strong> failing
        </Link>
        <Link href="/repositories" class={concern(freshness.never)}>
          <strong>{freshness.never}</strong> never backed up
        </Link>
      </div>
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
        <Link href="/jobs" class="stat">
          <strong>{active.length}</strong> jobs running or queued
        </Link>
      </div>

      {repositories.length === 0 ? (
        <>
          <h2>Repositories</h2>
          <p class="empty">
            No repositories yet. Add a machine first, then create one on the Repositories page.
          </p>
        </>
      ) : (
        <>
          <h2>Needs attention</h2>
          {attention.length === 0 ? (
            <p class="empty">Every repository is protected.</p>
          ) : (
            <AttentionTable
              repositories={attention}
              machines={machines}
              last={last}
              nextRuns={nextRuns}
              now={now}
            />
          )}
          {protectedRepos.length > 0 && (
            <>
              <h2>Protected</h2>
              <ProtectedTable
                repositories={protectedRepos}
                machines={machines}
                last={last}
                nextRuns={nextRuns}
                now={now}
              />
            </>
          )}
        </>
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
