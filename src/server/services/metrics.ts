/**
 * The hub's Prometheus metrics (GET /metrics, text format 0.0.4), on prom-client: a
 * well-kept library that owns the text format (escaping, histogram buckets, HELP/TYPE)
 * so the hub does not hand-write it. One Registry per HubDeps, no global registry.
 *
 * Two kinds of series:
 * - counted in this process: HTTP requests by method, matched route pattern (never the
 *   raw path, so ids do not explode the series) and status; job durations (a histogram
 *   by kind) observed when a job that ran reaches a terminal status on this replica.
 *   Like any Prometheus counter they start at zero when the process starts; with several
 *   replicas, sum them across instances.
 * - read from the database at every scrape (the same on every replica): agents by
 *   status, jobs by kind and status, the queue depth, and per repository the last
 *   success, whether it is overdue, its freshness status, failures since the last
 *   success, the expected interval and the size of its newest archive; per storage box
 *   whether its last refresh reached it and the free and total bytes that refresh read
 *   (an offline box keeps its last known sizes; the box's own /metrics has them live).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { RepositoryFreshness } from "../../shared/protocol/api.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { freshnessOfRepositories, freshnessStatus } from "./freshness.ts";

/** Seconds: a quick check to a day-long first backup. */
const DURATION_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400,
];
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const MACHINE_STATUSES = ["pending", "online", "offline", "disabled", "revoked"] as const;

export class HubMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: "borgctl_http_requests_total",
    help: "HTTP requests answered by this hub process, by method, matched route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  /**
   * Each request series' counter, looked up once: labelling hashes the label object on
   * every call, a hot path's cost. Bounded by methods × route patterns × statuses; this
   * counter is never reset, so the handles stay the registry's own.
   */
  private readonly requestSeries = new Map<string, { inc(): void }>();
  private readonly jobDuration = new Histogram({
    name: "borgctl_job_duration_seconds",
    help: "Run time (started to finished) of jobs that finished on this hub process, by kind.",
    labelNames: ["kind"] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly agents = this.gauge("borgctl_agents", "Agent machines by status.", ["status"]);
  private readonly jobs = this.gauge(
    "borgctl_jobs_total",
    "Jobs the hub keeps, by kind and status (read from the database).",
    ["kind", "status"],
  );
  private readonly queued = this.gauge("borgctl_jobs_queued", "Jobs waiting for an agent.", []);
  private readonly lastSuccess = this.gauge(
    "borgctl_repository_last_success_timestamp_seconds",
    "When the repository's last successful backup finished (absent: never).",
    ["repository"],
  );
  private readonly overdue = this.gauge(
    "borgctl_repository_overdue",
    "1 while the repository has had no successful backup within overdue_factor x its expected interval.",
    ["repository"],
  );
  private readonly freshness = this.gauge(
    "borgctl_repository_freshness",
    "1 for the repository's freshness status (ok, overdue, failing, never), 0 for the others.",
    ["repository", "status"],
  );
  private readonly failures = this.gauge(
    "borgctl_repository_failures_since_success",
    "Backups of the repository that failed since its last success.",
    ["repository"],
  );
  private readonly expected = this.gauge(
    "borgctl_repository_expected_interval_seconds",
    "The interval backups are expected at (from plans or set by hand; absent: none).",
    ["repository"],
  );
  private readonly backupBytes = this.gauge(
    "borgctl_backup_original_bytes",
    "Original (uncompressed) size of the repository's newest archive.",
    ["repository"],
  );
  private readonly boxOnline = this.gauge(
    "borgctl_box_online",
    "1 while the storage box answered the hub's last refresh (every minute), 0 when it did not.",
    ["box"],
  );
  private readonly boxFree = this.gauge(
    "borgctl_box_free_bytes",
    "Free bytes on the storage box's repo filesystem, as its last successful refresh read them.",
    ["box"],
  );
  private readonly boxTotal = this.gauge(
    "borgctl_box_total_bytes",
    "Total bytes of the storage box's repo filesystem, as its last successful refresh read them.",
    ["box"],
  );
  private readonly build = this.gauge("borgctl_build_info", "Always 1; the hub's version.", [
    "version",
  ]);
  /** Scrapes one at a time: each resets and refills the database gauges. */
  private rendering: Promise<unknown> = Promise.resolve();

  private gauge<L extends string>(name: string, help: string, labelNames: L[]) {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One answered request; `route` is the matched pattern ("unmatched" when none). */
  countRequest(method: string, route: string, status: number): void {
    const known = METHODS.has(method) ? method : "other";
    const key = `${known} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = this.httpRequests.labels({ method: known, route, status: String(status) });
      this.requestSeries.set(key, series);
    }
    series.inc();
  }

  /** A job reached a terminal status: its run time, when it ran at all. */
  observeJob(job: JobRow): void {
    if (job.startedAt === null || job.completedAt === null) return;
    this.jobDuration.observe(
      { kind: job.jobKind },
      Math.max(0, (job.completedAt - job.startedAt) / 1000),
    );
  }

  /** The text exposition, the database gauges read fresh. */
  render(deps: Pick<HubDeps, "store" | "clock" | "version" | "scheduleGaps">): Promise<string> {
    const next = this.rendering.then(async () => {
      await this.refresh(deps);
      return this.registry.metrics();
    });
    this.rendering = next.catch(() => {});
    return next;
  }

  private async refresh(
    deps: Pick<HubDeps, "store" | "clock" | "version" | "scheduleGaps">,
  ): Promise<void> {
    const [machines, repositories, jobCounts, sizes, boxes] = await Promise.all([
      deps.store.machines.list(),
      deps.store.repositories.list(),
      deps.store.metrics.jobCounts(),
      deps.store.metrics.latestBackupSizes(),
      deps.store.boxes.list(),
    ]);
    const facts = await freshnessOfRepositories(deps, repositories);
    for (const gauge of [
      this.agents,
      this.jobs,
      this.queued,
      this.lastSuccess,
      this.overdue,
      this.freshness,
      this.failures,
      this.expected,
      this.backupBytes,
      this.boxOnline,
      this.boxFree,
      this.boxTotal,
      this.build,
    ]) {
      gauge.reset();
    }
    this.build.set({ version: deps.version }, 1);
    for (const status of MACHINE_STATUSES) {
      this.agents.set({ status }, machines.filter((m) => m.status === status).length);
    }
    let queued = 0;
    for (const { jobKind, status, count } of jobCounts) {
      this.jobs.set({ kind: jobKind, status }, count);
      if (status === "queued") queued += count;
    }
    this.queued.set(queued);
    const names = new Map(repositories.map((r) => [r.id, r.name]));
    for (const repository of repositories) {
      const labels = { repository: repository.name };
      if (repository.lastBackupAt !== null) {
        this.lastSuccess.set(labels, repository.lastBackupAt / 1000);
      }
      this.overdue.set(labels, repository.overdueSince === null ? 0 : 1);
      const current = freshnessStatus(repository);
      for (const status of RepositoryFreshness.shape.status.options) {
        this.freshness.set({ ...labels, status }, status === current ? 1 : 0);
      }
      this.failures.set(labels, repository.failuresSinceSuccess);
      const interval = facts.get(repository.id)?.expectedIntervalSeconds;
      if (interval !== null && interval !== undefined) this.expected.set(labels, interval);
    }
    for (const { repositoryId, originalBytes } of sizes) {
      const name = names.get(repositoryId);
      if (name !== undefined) this.backupBytes.set({ repository: name }, originalBytes);
    }
    for (const box of boxes) {
      const labels = { box: box.name };
      this.boxOnline.set(labels, box.status === "online" ? 1 : 0);
      if (box.freeBytes !== null) this.boxFree.set(labels, box.freeBytes);
      if (box.totalBytes !== null) this.boxTotal.set(labels, box.totalBytes);
    }
  }
}
