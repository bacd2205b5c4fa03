/** @jsxImportSource hono/jsx/dom */
/** Job history, newest first, filtered by status; each row opens the job's live view. */
import { useState } from "hono/jsx/dom";
import { JOB_STATUSES } from "../../shared/protocol/agent.ts";
import { api } from "../api.ts";
import { ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { elapsedSeconds, formatAge, formatDuration, humanize, jobKindLabel } from "../format.ts";

export function JobsPage() {
  const now = useNow();
  const [status, setStatus] = useState("");
  const data = useLoad(
    async () => {
      const [jobs, machines] = await Promise.all([
        api.jobs({ status: status || undefined, limit: 100 }),
        api.machines(),
      ]);
      return { jobs, machines };
    },
    [status],
    5000,
  );
  const machineName = (id: number) =>
    data.data?.machines.find((m) => m.id === id)?.name ?? `#${id}`;
  const jobs = data.data?.jobs ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Jobs</h1>
        <label class="inline">
          Status
          <select
            value={status}
            onChange={(e: Event) => setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {JOB_STATUSES.map((s) => (
              <option value={s}>{humanize(s)}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={data.error} />
      {data.data && jobs.length === 0 && (
        <p class="empty">
          {status
            ? "No jobs with this status."
            : 'No jobs yet. "Back up now" on the Repositories page starts one.'}
        </p>
      )}
      {jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Machine</th>
                <th>Created</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr>
                  <td>
                    <Link href={`/jobs/${j.id}`}>
                      {jobKindLabel(j.type)} #{j.id}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>{machineName(j.agent_machine_id)}</td>
                  <td>{formatAge(j.created_at, now)}</td>
                  <td>{formatDuration(elapsedSeconds(j.started_at, j.completed_at, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
