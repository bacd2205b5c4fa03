/** @jsxImportSource hono/jsx/dom */
/**
 * Job history, newest first, filtered by status, repository and machine; "Older jobs"
 * pages back with `before=<last id>`. The newest page refreshes itself; older pages, once
 * fetched, stay as they were. Each row opens the job's live view.
 */
import { useState } from "hono/jsx/dom";
import { JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { Job } from "../../shared/protocol/api.ts";
import { api, type JobFilter } from "../api.ts";
import { ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { elapsedSeconds, formatAge, formatDuration, humanize, jobKindLabel } from "../format.ts";
import { machineLabel, repositoryLabel, triggeredByLabel } from "../job-names.ts";
import { usePagedList } from "../paged-list.tsx";

const PAGE_SIZE = 50;

function FilterSelect(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
}) {
  return (
    <label class="inline">
      {props.label}
      <select
        value={props.value}
        onChange={(e: Event) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">any</option>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function JobsPage() {
  const now = useNow();
  const [status, setStatus] = useState("");
  const [repository, setRepository] = useState("");
  const [machine, setMachine] = useState("");
  const filter: JobFilter = {
    status: status || undefined,
    repository_id: repository ? Number(repository) : undefined,
    agent_machine_id: machine ? Number(machine) : undefined,
    limit: PAGE_SIZE,
  };
  const names = useLoad(async () => {
    const [machines, repositories] = await Promise.all([api.machines(), api.repositories()]);
    return { machines, repositories };
  }, []);
  const paged = usePagedList<Job>(
    (before) => api.jobs({ ...filter, before }),
    PAGE_SIZE,
    [status, repository, machine],
    5000,
  );
  const { newest, rows: jobs, busy, loadOlder, olderError } = paged;
  const filtered = status !== "" || repository !== "" || machine !== "";
  return (
    <section>
      <div class="title-row">
        <h1>Jobs</h1>
      </div>
      <div class="filters">
        <FilterSelect
          label="Status"
          value={status}
          onChange={setStatus}
          options={JOB_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
        />
        <FilterSelect
          label="Repository"
          value={repository}
          onChange={setRepository}
          options={(names.data?.repositories ?? []).map((r) => ({
            value: String(r.id),
            label: r.name,
          }))}
        />
        <FilterSelect
          label="Machine"
          value={machine}
          onChange={setMachine}
          options={(names.data?.machines ?? []).map((m) => ({
            value: String(m.id),
            label: m.name,
          }))}
        />
      </div>
      <ErrorText error={newest.error ?? names.error} />
      {newest.data && jobs.length === 0 && (
        <p class="empty">
          {filtered
            ? "No jobs match these filters; set a filter back to “any” to see more."
            : 'No jobs yet. "Back up now" on the Repositories page starts one.'}
        </p>
      )}
      {/* Rows wait for the names so a job never shows as "repository #1" first. */}
      {jobs.length > 0 && (names.data || names.error) && (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Repository</th>
                <th>Machine</th>
                <th>Started by</th>
                <th>Created</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr data-job={j.id}>
                  <td>
                    <Link href={`/jobs/${j.id}`}>
                      {jobKindLabel(j.type)} #{j.id}
                    </Link>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={j.status} />
                  </td>
                  <td data-label="Repository">
                    {repositoryLabel(names.data, j.repository_id) ?? "–"}
                  </td>
                  <td data-label="Machine">{machineLabel(names.data, j.agent_machine_id)}</td>
                  <td data-label="Started by">{triggeredByLabel(j.triggered_by)}</td>
                  <td data-label="Created">{formatAge(j.created_at, now)}</td>
                  <td data-label="Duration">
                    {formatDuration(elapsedSeconds(j.started_at, j.completed_at, now))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.length > 0 && (
        <div class="actions paging">
          {paged.hasOlder ? (
            <button type="button" disabled={busy} onClick={loadOlder}>
              Older jobs
            </button>
          ) : (
            <span class="muted small">That is all of them ({jobs.length}).</span>
          )}
          <ErrorText error={olderError} />
        </div>
      )}
    </section>
  );
}
