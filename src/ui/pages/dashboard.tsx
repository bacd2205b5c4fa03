/** @jsxImportSource hono/jsx/dom */
/** The fleet at a glance: machines online/offline, repositories by attention, active jobs. */
import { api } from "../api.ts";
import { ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { activeJobs, countMachines, repositoriesByAttention, repositoryHealth } from "../fleet.ts";
import { formatAge, jobKindLabel } from "../format.ts";
import { JobProgressBar } from "./job-detail.tsx";

export function DashboardPage() {
  const now = useNow();
  const fleet = useLoad(
    async () => {
      const [machines, repositories, jobs] = await Promise.all([
        api.machines(),
        api.repositories(),
        api.jobs({ limit: 100 }),
      ]);
      return { machines, repositories, jobs };
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
  const { machines, repositories, jobs } = fleet.data;
  const counts = countMachines(machines);
  const machineName = (id: number) => machines.find((m) => m.id === id)?.name ?? `#${id}`;
  const active = activeJobs(jobs);
  return (
    <section>
      <h1>Dashboard</h1>
      <ErrorText error={fleet.error} />
      <div class="stats">
        <Link href="/machines" class="stat tone-ok">
          <strong>{counts.online}</strong> online
        </Link>
        <Link href="/machines" class="stat tone-bad">
          <strong>{counts.offline}</strong> offline
        </Link>
        <Link href="/machines" class="stat">
          <strong>{counts.other}</strong> pending, disabled or revoked
        </Link>
        <Link href="/jobs" class="stat tone-busy">
          <strong>{active.length}</strong> jobs running or queued
        </Link>
      </div>

      <h2>Repositories</h2>
      {repositories.length === 0 ? (
        <p class="empty">
          No repositories yet. Add a machine first, then create a repository for it through the API
          (<code>POST /api/repositories</code>).
        </p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Repository</th>
                <th>Machine</th>
                <th>Last backup</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {repositoriesByAttention(repositories, now).map((r) => (
                <tr class={`health-${repositoryHealth(r, now)}`}>
                  <td>{r.name}</td>
                  <td>{machineName(r.agent_machine_id)}</td>
                  <td>{formatAge(r.last_backup_at, now)}</td>
                  <td>{r.last_result ? <StatusBadge status={r.last_result} /> : "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Running jobs</h2>
      {active.length === 0 ? (
        <p class="empty">Nothing is running.</p>
      ) : (
        <ul class="job-cards">
          {active.map((j) => (
            <li class="card">
              <Link href={`/jobs/${j.id}`}>
                {jobKindLabel(j.type)} #{j.id} on {machineName(j.agent_machine_id)}
              </Link>{" "}
              <StatusBadge status={j.status} />
              <JobProgressBar job={j} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
