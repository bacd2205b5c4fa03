/** @jsxImportSource hono/jsx/dom */
/**
 * The archives on a repository's page, from the last listing the machine sent (the
 * "Refresh archives" action lists them anew): when that was, and the table, or what to do
 * when there are none.
 */
import type { api } from "../api.ts";
import { formatAge } from "../format.ts";

type ArchiveListing = Awaited<ReturnType<typeof api.archives>>;

export function ArchiveList(props: {
  listing: ArchiveListing | undefined;
  now: number;
  /** Opens the archive's file browser. */
  onBrowse?: (archive: string) => void;
}) {
  const { listing, now } = props;
  return (
    <>
      {listing && (
        <p class="muted small">
          {listing.listed_at ? `Listed ${formatAge(listing.listed_at, now)}.` : "Never listed yet."}
        </p>
      )}
      {listing && listing.archives.length === 0 && (
        <p class="empty">
          No archives known. Press "Refresh archives" to list them on the machine, or "Back up now"
          to make the first one.
        </p>
      )}
      {listing && listing.archives.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Time</th>
                <th>Host</th>
                {props.onBrowse && <th aria-label="Files" />}
              </tr>
            </thead>
            <tbody>
              {listing.archives.map((a) => (
                <tr data-archive={a.name}>
                  <td class="path">{a.name}</td>
                  <td>
                    {a.time || a.start ? new Date(a.time ?? a.start ?? "").toLocaleString() : "–"}
                  </td>
                  <td>{a.hostname ?? "–"}</td>
                  {props.onBrowse && (
                    <td>
                      <button
                        type="button"
                        data-browse={a.name}
                        onClick={() => props.onBrowse?.(a.name)}
                      >
                        Browse files
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
