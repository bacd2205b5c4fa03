/** @jsxImportSource hono/jsx/dom */
/**
 * The file browser of one archive on the repository page: breadcrumbs, one directory
 * level (folders first, sizes, dates), a glob search, check boxes to pick files and
 * folders, and the restore dialog (destination on the owning machine, or for a box
 * repository on another one; overwrite off by default with a warning when on, dry run),
 * which opens the restore's live job page. An operator downloads a single file with a
 * plain link (the hub streams it from the machine), up to the hub's download limit.
 *
 * The hub answers from its listing cache; the first visit of an archive queues the job
 * that lists it on the machine (202), which this view follows until it ends and then asks
 * again. Viewers browse what is cached and see no restore button.
 */
import { useEffect, useState } from "hono/jsx/dom";
import type { ArchiveTree, ArchiveTreeEntry, Machine } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ErrorText, Link } from "../components.tsx";
import { formatBytes } from "../format.ts";
import { Modal } from "../modal.tsx";
import { navigate } from "../routes.ts";

const TERMINAL = ["completed", "completed_with_warnings", "failed", "canceled"];

/** "/a/b" → [["/", "/"], ["a", "/a"], ["b", "/a/b"]]. */
export function breadcrumbs(path: string): [string, string][] {
  const parts = path.split("/").filter(Boolean);
  return [
    ["/", "/"],
    ...parts.map((p, i): [string, string] => [p, `/${parts.slice(0, i + 1).join("/")}`]),
  ];
}

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

function RestoreDialog(props: {
  repositoryId: number;
  archive: string;
  paths: string[];
  ownerMachineId: number;
  otherMachines: Machine[];
  onBox: boolean;
  onClose: () => void;
}) {
  // Only a box repository can be restored onto another machine: the hub lends that
  // machine's key on the box for the job, and it cannot grant access to a server it does
  // not manage (the API refuses target_machine_id there, and says so).
  const targets = props.onBox ? props.otherMachines : [];
  const [destination, setDestination] = useState("");
  const [targetId, setTargetId] = useState(props.ownerMachineId);
  const [overwrite, setOverwrite] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const accepted = await api.restore(props.repositoryId, {
        archive: props.archive,
        paths: props.paths,
        destination,
        overwrite,
        dry_run: dryRun,
        ...(targetId === props.ownerMachineId ? {} : { target_machine_id: targetId }),
      });
      navigate(`/jobs/${accepted.job_id}`);
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };
  return (
    <Modal label="Restore" onClose={props.onClose}>
      <form onSubmit={submit} data-form="restore">
        <h3>
          Restore {props.paths.length === 0 ? "the whole archive" : `${props.paths.length} item(s)`}
        </h3>
        <ul class="small path">
          {props.paths.slice(0, 10).map((p) => (
            <li>{p}</li>
          ))}
          {props.paths.length > 10 && <li>… and {props.paths.length - 10} more</li>}
        </ul>
        {targets.length > 0 && (
          <label>
            Restore onto
            <select
              name="target_machine_id"
              onChange={(e: Event) => setTargetId(Number((e.target as HTMLSelectElement).value))}
            >
              <option value={String(props.ownerMachineId)} selected>
                the machine that made the backup
              </option>
              {targets.map((m) => {
                // The hub queues a restore only to an agent that names the kind (409 otherwise).
                const why =
                  m.status !== "online"
                    ? m.status
                    : m.capabilities.includes("archive.extract")
                      ? undefined
                      : "agent too old to restore";
                return (
                  <option value={String(m.id)} disabled={why !== undefined}>
                    {m.name}
                    {why === undefined ? "" : ` (${why})`}
                  </option>
                );
              })}
            </select>
          </label>
        )}
        {!props.onBox && props.otherMachines.length > 0 && (
          <p class="muted small" data-restore-elsewhere="refused">
            Restores go to the machine that made the backup. Restoring onto another machine needs a
            repository on a storage box the hub manages (the hub lends that machine's key on the box
            for the job); this one is not, so restore here and copy the files over.
          </p>
        )}
        {targetId !== props.ownerMachineId && (
          <p class="muted small">
            The hub lends that machine's SSH key on the storage box for this repository only, for as
            long as the restore runs.
          </p>
        )}
        <label>
          Destination on the machine (an absolute directory; created if missing)
          <input
            name="destination"
            required
            placeholder="/srv/restore"
            value={destination}
            onInput={(e: Event) => setDestination((e.target as HTMLInputElement).value)}
          />
        </label>
        <p class="muted small">
          Files keep their full path inside it: /home/u/a.txt goes to{" "}
          <code>{destination || "<destination>"}/home/u/a.txt</code>.
        </p>
        <label class="inline">
          <input
            type="checkbox"
            name="overwrite"
            checked={overwrite}
            onChange={(e: Event) => setOverwrite((e.target as HTMLInputElement).checked)}
          />
          Overwrite files that exist there
        </label>
        {overwrite && (
          <p class="warning" role="alert">
            Existing files at the destination will be replaced by the archive's copies. Without
            this, the restore stops before writing anything and names the first file in the way.
          </p>
        )}
        <label class="inline">
          <input
            type="checkbox"
            name="dry_run"
            checked={dryRun}
            onChange={(e: Event) => setDryRun((e.target as HTMLInputElement).checked)}
          />
          Dry run: list what would be restored, write nothing
        </label>
        <ErrorText error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {dryRun ? "Dry run" : "Restore"}
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** "Download" for a file within the hub's limit; why not, for one over it. */
function DownloadLink(props: { entry: ArchiveTreeEntry; href: string; limit: number }) {
  if (props.entry.type !== "file") return null;
  if (props.entry.size > props.limit) {
    return (
      <span
        class="muted small"
        title={`Over the hub's download limit (${formatBytes(props.limit)}): restore it onto a machine`}
      >
        too large
      </span>
    );
  }
  return (
    <a href={props.href} download={props.entry.name} data-download={props.entry.name}>
      Download
    </a>
  );
}

export function ArchiveBrowser(props: {
  repositoryId: number;
  archive: string;
  canRestore: boolean;
  ownerMachineId: number;
  otherMachines: Machine[];
  onBox: boolean;
  onClose: () => void;
}) {
  const [path, setPath] = useState("/");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState<string | undefined>(undefined);
  const [tree, setTree] = useState<ArchiveTree | null>(null);
  const [listingJob, setListingJob] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [restoring, setRestoring] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const follow = async (jobId: number) => {
      const job = await api.job(jobId);
      if (!alive) return;
      if (!TERMINAL.includes(job.status)) {
        timer = setTimeout(() => void follow(jobId).catch(fail), 1000);
        return;
      }
      setListingJob(null);
      if (job.status.startsWith("completed")) setAttempt((n) => n + 1);
      else setError(`listing the archive ${job.status}: ${job.error_message ?? ""}`);
    };
    const fail = (e: unknown) => {
      if (alive) setError(errorMessage(e));
    };
    setError(null);
    api.archiveTree(props.repositoryId, props.archive, path, query).then((answer) => {
      if (!alive) return;
      if ("job_id" in answer) {
        setListingJob(answer.job_id);
        void follow(answer.job_id).catch(fail);
      } else {
        setTree(answer);
      }
    }, fail);
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [props.repositoryId, props.archive, path, query, attempt]);

  const open = (to: string) => {
    setQuery(undefined);
    setSearch("");
    setPath(to);
  };
  const toggle = (full: string) =>
    setSelected((s) => (s.includes(full) ? s.filter((x) => x !== full) : [...s, full]));
  const entryPath = (e: ArchiveTreeEntry) => e.path ?? join(tree?.path ?? path, e.name);

  return (
    <div class="card archive-browser" data-browser={props.archive}>
      <div class="title-row">
        <h3>Files in {props.archive}</h3>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
      <nav class="breadcrumbs" aria-label="Folder">
        {breadcrumbs(path).map(([label, to], i) => (
          <>
            {i > 1 && <span class="muted"> / </span>}
            <button type="button" class="link" data-crumb={to} onClick={() => open(to)}>
              {label}
            </button>
          </>
        ))}
      </nav>
      <form
        class="inline-form"
        onSubmit={(e: Event) => {
          e.preventDefault();
          setQuery(search.trim() === "" ? undefined : search.trim());
        }}
      >
        <input
          name="search"
          placeholder="Search, e.g. *.pdf"
          value={search}
          onInput={(e: Event) => setSearch((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorText error={error} />
      {listingJob !== null && (
        <p class="muted" aria-live="polite">
          Listing the archive on the machine (
          <Link href={`/jobs/${listingJob}`}>job #{listingJob}</Link>)…
        </p>
      )}
      {tree && listingJob === null && (
        <>
          {query !== undefined && <p class="muted small">Matches for {query}:</p>}
          {tree.entries.length === 0 && <p class="empty">Nothing here.</p>}
          {tree.entries.length > 0 && (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    {props.canRestore && <th aria-label="Pick" />}
                    <th>Name</th>
                    <th>Size</th>
                    <th>Modified</th>
                    {props.canRestore && <th aria-label="Download" />}
                  </tr>
                </thead>
                <tbody>
                  {tree.entries.map((e) => {
                    const full = entryPath(e);
                    return (
                      <tr data-entry={e.name} data-type={e.type}>
                        {props.canRestore && (
                          <td>
                            <input
                              type="checkbox"
                              aria-label={`Pick ${full}`}
                              checked={selected.includes(full)}
                              onChange={() => toggle(full)}
                            />
                          </td>
                        )}
                        <td class="path">
                          {e.type === "dir" ? (
                            <button type="button" class="link" onClick={() => open(full)}>
                              {query !== undefined ? full : e.name}/
                            </button>
                          ) : (
                            <span>
                              {e.type === "link" ? "↪ " : ""}
                              {query !== undefined ? full : e.name}
                            </span>
                          )}
                        </td>
                        <td>{e.type === "dir" ? "–" : formatBytes(e.size)}</td>
                        <td>{e.mtime ? new Date(e.mtime).toLocaleString() : "–"}</td>
                        {props.canRestore && (
                          <td>
                            <DownloadLink
                              entry={e}
                              href={api.downloadUrl(props.repositoryId, props.archive, full)}
                              limit={tree.download_max_bytes ?? 0}
                            />
                          </td>
                        )}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {tree.truncated && (
            <p class="muted small">Only the first 10,000 are shown; search to narrow it down.</p>
          )}
        </>
      )}
      {props.canRestore && (
        <div class="actions">
          <button
            type="button"
            data-action="restore"
            disabled={selected.length === 0}
            onClick={() => setRestoring(true)}
          >
            Restore selected ({selected.length})
          </button>
          {selected.length > 0 && (
            <button type="button" onClick={() => setSelected([])}>
              Clear selection
            </button>
          )}
        </div>
      )}
      {restoring && (
        <RestoreDialog
          repositoryId={props.repositoryId}
          archive={props.archive}
          paths={selected}
          ownerMachineId={props.ownerMachineId}
          otherMachines={props.otherMachines}
          onBox={props.onBox}
          onClose={() => setRestoring(false)}
        />
      )}
    </div>
  );
}
