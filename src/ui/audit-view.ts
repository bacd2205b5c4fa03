/**
 * The audit page's pure formatting: an event's details as one line of compact JSON, with
 * the empty cases ("–") told apart from an empty object's keys. Pure.
 */

/** `{"fields":["name"]}` for a details object; "–" when there are none. */
export function auditDetails(details: Record<string, unknown> | null): string {
  if (details === null) return "–";
  const text = JSON.stringify(details);
  return text === "{}" ? "–" : text;
}

/** The actions to offer in the filter: the ones seen so far, sorted, each once. */
export function auditActions(events: readonly { action: string }[]): string[] {
  return [...new Set(events.map((e) => e.action))].sort();
}
