/**
 * Paging the job history: the hub lists newest first and takes `before=<id>` for the
 * next older page. A page shorter than asked for is the last one. Pure.
 */

/** The `before` for the page after `page`, or null when `page` was the last. */
export function olderCursor(page: readonly { id: number }[], pageSize: number): number | null {
  if (page.length < pageSize) return null;
  return page.at(-1)?.id ?? null;
}

/** Older pages appended after the newer ones, each job once (a job may shift pages). */
export function appendOlder<T extends { id: number }>(
  shown: readonly T[],
  older: readonly T[],
): T[] {
  const seen = new Set(shown.map((j) => j.id));
  return [...shown, ...older.filter((j) => !seen.has(j.id))];
}
