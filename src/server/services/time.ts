/** Times: integer epoch milliseconds inside the hub, RFC 3339 UTC on the wire. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : toIso(ms);
