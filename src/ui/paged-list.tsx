/** @jsxImportSource hono/jsx/dom */
/**
 * A newest-first list the hub pages with `before=<id>` (jobs, audit): the newest page
 * loads (and optionally refreshes) by itself; "Older" fetches the next page, and rows
 * once shown stay even when new ones push them off the refreshing newest page. New
 * filters (a change in `deps`) start over from the newest page.
 */
import { useEffect, useState } from "hono/jsx/dom";
import { errorMessage } from "./api.ts";
import { type Loaded, useLoad } from "./components.tsx";
import { appendOlder, olderCursor } from "./job-paging.ts";

export interface PagedList<T> {
  newest: Loaded<T[]>;
  rows: T[];
  /** Whether an older page may exist. */
  hasOlder: boolean;
  loadOlder(): Promise<void>;
  busy: boolean;
  olderError: string | null;
}

export function usePagedList<T extends { id: number }>(
  loadPage: (before?: number) => Promise<T[]>,
  pageSize: number,
  deps: unknown[],
  refreshMs?: number,
): PagedList<T> {
  const [older, setOlder] = useState<T[]>([]);
  const [cursor, setCursor] = useState<number | null | undefined>(undefined);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const newest = useLoad(() => loadPage(), deps, refreshMs);
  useEffect(() => {
    setOlder([]);
    setCursor(undefined);
    setOlderError(null);
  }, deps);

  const firstPage = newest.data ?? [];
  // Until older pages were fetched, whether there are more follows from the newest page.
  const next = cursor === undefined ? olderCursor(firstPage, pageSize) : cursor;
  const loadOlder = async () => {
    if (next === null) return;
    setBusy(true);
    setOlderError(null);
    try {
      const page = await loadPage(next);
      setOlder((shown) => appendOlder(appendOlder(firstPage, shown), page));
      setCursor(olderCursor(page, pageSize));
    } catch (e) {
      setOlderError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return {
    newest,
    rows: appendOlder(firstPage, older),
    hasOlder: next !== null,
    loadOlder,
    busy,
    olderError,
  };
}
