/** @jsxImportSource hono/jsx/dom */
/**
 * One job, live: status, progress bar (percent when known, else indeterminate with
 * counters), current file, the log following as lines arrive, cancel (asks first).
 * Everything comes from the job's SSE stream; EventSource reconnects by itself and the
 * reducer drops the history lines it has already seen.
 */
import { useEffect, useReducer, useRef } from "hono/jsx/dom";
import { z } from "zod";
import { JobStatus } from "../../shared/protocol/agent.ts";
import { Job, JobLog, JobProgress } from "../../shared/protocol/api.ts";
import { api } from "../api.ts";
import { ConfirmButton, ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { elapsedSeconds, formatBytes, formatDuration, jobKindLabel } from "../format.ts";
import { jobSummary, triggeredByLabel } from "../job-names.ts";
import { backupStatsFacts, failureMessage } from "../job-result.ts";
import {
  initialJobView,
  isTerminal,
  type JobViewAction,
  jobViewReducer,
  progressBar,
} from "../job-view.ts";
import { canRunJobs } from "../roles.ts";

export function JobProgressBar(props: { job: Job }) {
  const bar = progressBar(props.job);
  if (bar.kind === "none") return null;
  const label = `progress of job ${props.job.id}`;
  return (
    <div class="progress">
      {bar.kind === "percent" ? (
        <progress max={100} value={bar.percent} aria-label={label} />
      ) : (
        <progress aria-label={label} />
      )}
      <span class="muted small">
        {[bar.kind === "percent" ? `${bar.percent.toFixed(1)}%` : "", ...bar.details]
          .filter(Boolean)
          .join(" · ")}
      </span>
    </div>
  );
}

/** A completed backup's stats; a failure's message, prominently; other messages plainly. */
function JobOutcome(props: { job: Job }) {
  const failure = failureMessage(props.job);
  const stats = backupStatsFacts(props.job);
  return (
    <>
      {failure ? (
        <div class="failure" role="alert">
          <strong>This job failed</strong>
          <p>{failure}</p>
        </div>
      ) : (
        <ErrorText error={props.job.error_message} />
      )}
      {stats.length > 0 && (
        <dl class="stats backup-stats" aria-label="backup stats">
          {stats.map((f) => (
            <div class="stat">
              <dt class="muted small">{f.label}</dt>
              <dd>{f.value}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}

const EndEvent = z.object({ status: JobStatus });

/** An SSE event's JSON, decoded with its protocol schema; anything else is ignored. */
function decode<T>(schema: z.ZodType<T>, raw: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function useJobStream(id: number) {
  const [state, dispatch] = useReducer(jobViewReducer, initialJobView);
  useEffect(() => {
    const source = new EventSource(`/api/jobs/${id}/events`);
    const on = (event: string, toAction: (data: string) => JobViewAction | undefined) =>
      source.addEventListener(event, (e) => {
        const action = toAction((e as MessageEvent<string>).data);
        if (action) dispatch(action);
      });
    source.onopen = () => dispatch({ type: "connection", connection: "live" });
    source.onerror = () => dispatch({ type: "connection", connection: "lost" });
    on("status", (d) => {
      const job = decode(Job, d);
      return job && { type: "status", job };
    });
    on("progress", (d) => {
      const progress = decode(JobProgress, d);
      return progress && { type: "progress", progress };
    });
    on("log", (d) => {
      const line = decode(JobLog, d);
      return line && { type: "log", line };
    });
    on("end", (d) => {
      source.close();
      const end = decode(EndEvent, d);
      return end && { type: "end", status: end.status };
    });
    return () => source.close();
  }, [id]);
  return state;
}

export function JobDetailPage(props: { id: number }) {
  const now = useNow(1000);
  const state = useJobStream(props.id);
  const me = useLoad(() => api.me(), []);
  const names = useLoad(async () => {
    const [repositories, machines] = await Promise.all([api.repositories(), api.machines()]);
    return { repositories, machines };
  }, []);
  const logRef = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  // Follow the log while the reader is at its bottom; stop when they scroll up.
  useEffect(() => {
    const el = logRef.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [state.logs.length]);
  const job = state.job;
  if (!job) {
    return (
      <section>
        <h1>Job #{props.id}</h1>
        <ErrorText
          error={state.connection === "lost" ? "cannot load this job (does it exist?)" : null}
        />
        <p class="muted">Loading…</p>
      </section>
    );
  }
  return (
    <section>
      <p>
        <Link href="/jobs">← Jobs</Link>
      </p>
      <div class="title-row">
        <h1>
          {jobKindLabel(job.type)} #{job.id}
        </h1>
        <StatusBadge status={job.status} />
        {canRunJobs(me.data?.role) &&
          !isTerminal(job.status) &&
          job.status !== "cancel_requested" && (
            <ConfirmButton
              label="Cancel job"
              question="Cancel this job? borg is stopped; a partial backup is discarded."
              confirmLabel="Yes, cancel it"
              onConfirm={() => api.cancelJob(job.id)}
            />
          )}
      </div>
      {/* The summary waits for the names so it never reads "repository #1" first. */}
      {(names.data || names.error) && (
        <p class="job-summary">
          {job.repository_id !== null ? (
            <Link href={`/repositories/${job.repository_id}`}>{jobSummary(job, names.data)}</Link>
          ) : (
            jobSummary(job, names.data)
          )}
        </p>
      )}
      <dl class="facts">
        <dt>Started by</dt>
        <dd>{triggeredByLabel(job.triggered_by)}</dd>
        {job.scheduled_for && (
          <>
            <dt>Due at</dt>
            <dd>{new Date(job.scheduled_for).toLocaleString()}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{new Date(job.created_at).toLocaleString()}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(elapsedSeconds(job.started_at, job.completed_at, now))}</dd>
        {job.progress.current_file && (
          <>
            <dt>Current file</dt>
            <dd class="path">{job.progress.current_file}</dd>
          </>
        )}
        {job.result?.archive_name && (
          <>
            <dt>Archive</dt>
            <dd>{job.result.archive_name}</dd>
          </>
        )}
        {job.result?.files !== undefined && (
          <>
            <dt>{job.type === "archive.extract" ? "Restored" : "Files"}</dt>
            <dd data-fact="restored">
              {job.result.files} items, {formatBytes(job.result.bytes ?? 0)}
            </dd>
          </>
        )}
        {job.result?.listed && job.result.listed.length > 0 && (
          <>
            <dt>Would restore</dt>
            <dd class="path small" data-fact="listed" style="white-space: pre-line">
              {job.result.listed.slice(0, 50).join("\n")}
              {job.result.listed.length > 50 ? `\n… ${job.result.listed.length - 50} more` : ""}
            </dd>
          </>
        )}
        {job.return_code !== null && (
          <>
            <dt>borg exit code</dt>
            <dd>{job.return_code}</dd>
          </>
        )}
      </dl>
      <JobProgressBar job={job} />
      <JobOutcome job={job} />
      {state.connection === "lost" && (
        <p class="muted">Connection to the hub lost; reconnecting…</p>
      )}
      <h2>Log</h2>
      <pre
        class="log"
        ref={logRef}
        onScroll={(e: Event) => {
          const el = e.currentTarget as HTMLElement;
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {state.logs.length === 0
          ? isTerminal(job.status)
            ? "borg wrote no log lines for this job."
            : "No log lines yet."
          : state.logs.map((l) => `${l.message}\n`).join("")}
      </pre>
    </section>
  );
}
