/** @jsxImportSource hono/jsx/dom */
/** Repositories with their last backup; "Back up now" queues a backup and opens its job. */
import { useState } from "hono/jsx/dom";
import type { Repository } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { navigate } from "../routes.ts";

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
      const [repositories, machines] = await Promise.all([api.repositories(), api.machines()]);
      return { repositories, machines };
    },
    [],
    10_000,
  );
  const machineName = (id: number) =>
    data.data?.machines.find((m) => m.id === id)?.name ?? `#${id}`;
  const repositories = data.data?.repositories ?? [];
  return (
    <section>
      <h1>Repositories</h1>
      <ErrorText error={data.error} />
      {data.data && repositories.length === 0 && (
        <p class="empty">
          No repositories yet. Creating one from the UI is coming; for now use{" "}
          <code>POST /api/repositories</code> with a machine's id.
        </p>
      )}
      {repositories.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Machine</th>
                <th>Location</th>
                <th>Last backup</th>
                <th>Result</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {repositories.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td>{machineName(r.agent_machine_id)}</td>
                  <td class="path">{r.location}</td>
                  <td>{formatAge(r.last_backup_at, now)}</td>
                  <td>
                    {r.last_result && r.last_job_id ? (
                      <Link href={`/jobs/${r.last_job_id}`}>
                        <StatusBadge status={r.last_result} />
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td>
                    <BackupNow repo={r} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
