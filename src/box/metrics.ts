/** The box's /metrics in Prometheus text format, rendered from facts it already has. */
import type { BoxJob } from "./jobs.ts";
import type { RepoFacts } from "./repos.ts";

export interface BoxMetricsInput {
  repos: RepoFacts[];
  jobs: BoxJob[];
  sessions: number;
  freeBytes: number;
  totalBytes: number;
  uptimeSeconds: number;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function gauge(name: string, help: string, samples: [labels: string, value: number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  return lines.join("\n");
}

export function renderBoxMetrics(input: BoxMetricsInput): string {
  const statuses = ["queued", "running", "done", "error"] as const;
  return `${[
    gauge("borgctl_box_repos", "Repository directories under the root.", [
      ["", input.repos.length],
    ]),
    gauge(
      "borgctl_box_repo_size_bytes",
      "Bytes on disk per repository (refreshed in the background).",
      input.repos.map((r) => [`{repo="${escapeLabel(r.name)}"}`, r.size_bytes]),
    ),
    gauge(
      "borgctl_box_jobs",
      "Maintenance jobs in the registry by status.",
      statuses.map((s) => [`{status="${s}"}`, input.jobs.filter((j) => j.status === s).length]),
    ),
    gauge("borgctl_box_sessions", "Live borg serve sessions.", [["", input.sessions]]),
    gauge("borgctl_box_storage_free_bytes", "Free bytes on the repo root's filesystem.", [
      ["", input.freeBytes],
    ]),
    gauge("borgctl_box_storage_total_bytes", "Size of the repo root's filesystem.", [
      ["", input.totalBytes],
    ]),
    gauge("borgctl_box_uptime_seconds", "Seconds since the box started.", [
      ["", input.uptimeSeconds],
    ]),
  ].join("\n")}\n`;
}
