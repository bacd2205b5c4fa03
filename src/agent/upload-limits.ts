/**
 * Fits what the agent uploads to the protocol's caps (the MAX_* constants next to the
 * schemas in shared/protocol/agent.ts), before it is queued or sent. An upload over a
 * cap fails the hub's schema — and, for an outbox item, the outbox's own schema when it
 * is read back — so without this a long borg message (a traceback, a warning that
 * repeats a long path) would lose the job's result and the hub would call the agent lost.
 *
 * A long text keeps its head and its tail (borg puts what went wrong at the end of a
 * traceback) with a marker in the middle saying how much was cut. Lengths are counted
 * in Unicode code points, as zod's `.max` counts them, and never split a surrogate pair.
 * Pure functions; nothing here does I/O.
 */
import {
  type CompleteRequest,
  type HeartbeatRequest,
  type LogEntry,
  MAX_ARCHIVE_NAME_CHARS,
  MAX_ARCHIVES,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_HOSTNAME_CHARS,
  MAX_LAST_ERROR_CHARS,
  MAX_LOG_ENTRIES_PER_UPLOAD,
  MAX_LOG_MESSAGE_CHARS,
  MAX_PATH_CHARS,
  MAX_PHASE_CHARS,
  MAX_VERSION_CHARS,
  MAX_WARNING_CHARS,
  MAX_WARNINGS,
  type ProgressRequest,
} from "../shared/protocol/agent.ts";
import type { OutboxItem } from "./outbox.ts";

const isHigh = (unit: number) => (unit & 0xfc00) === 0xd800;
const isLow = (unit: number) => (unit & 0xfc00) === 0xdc00;

/** Code points, counted the way zod does: a high+low surrogate pair is one, anything else one each. */
export function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) {
      count--;
      i++;
    }
  }
  return count;
}

/** The UTF-16 index just after the first `n` code points. */
function indexAfter(text: string, n: number): number {
  let i = 0;
  for (let count = 0; count < n && i < text.length; count++) {
    i += isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** The UTF-16 index where the last `n` code points start. */
function indexBeforeLast(text: string, n: number): number {
  let j = text.length;
  for (let count = 0; count < n && j > 0; count++) {
    j -= j >= 2 && isLow(text.charCodeAt(j - 1)) && isHigh(text.charCodeAt(j - 2)) ? 2 : 1;
  }
  return j;
}

const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

export const truncationMarker = (removed: number) => `…[truncated ${grouped(removed)} characters]…`;

/**
 * `text` if it has at most `max` code points; else its head and tail around a marker,
 * exactly `max` code points in all (the tail gets the odd one).
 */
export function fitText(raw: string, max: number): string {
  // The protocol refuses NUL in any text (shared/protocol/common.ts): show it instead.
  const text = raw.includes("\0") ? raw.replaceAll("\0", "\\0") : raw;
  // Code points never outnumber UTF-16 units: most texts are decided without counting.
  if (text.length <= max) return text;
  const length = codePointLength(text);
  if (length <= max) return text;
  let keep = max - truncationMarker(length - max).length;
  for (;;) {
    // Too small a cap for a marker: a plain cut (no protocol cap is that small).
    if (keep < 2) return text.slice(0, indexAfter(text, max));
    const marker = truncationMarker(length - keep);
    // The marker is ASCII and "…" (one code unit each), so its .length is its code points.
    if (keep + marker.length <= max) {
      const headPoints = Math.floor(keep / 2);
      const head = text.slice(0, indexAfter(text, headPoints));
      const tail = text.slice(indexBeforeLast(text, keep - headPoints));
      return `${head}${marker}${tail}`;
    }
    // The count gained a digit (or a comma): give the marker the room.
    keep = max - marker.length;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** A one-line field (a phase, a hostname, a version): control characters become spaces. */
export const fitLine = (text: string, max: number): string =>
  fitText(text.replace(CONTROL_CHARS, " "), max);

const fitOptional = <T extends string | null | undefined>(text: T, max: number): T =>
  (typeof text === "string" ? fitText(text, max) : text) as T;

/** At most MAX_WARNINGS, each fitted; past the cap the last one says how many more there were. */
export function fitWarnings(warnings: readonly string[]): string[] {
  const kept =
    warnings.length > MAX_WARNINGS
      ? [
          ...warnings.slice(0, MAX_WARNINGS - 1),
          `… and ${grouped(warnings.length - (MAX_WARNINGS - 1))} more warnings`,
        ]
      : [...warnings];
  // A non-string (an item read back from disk) is left for the schema to refuse.
  return kept.map((w) => (typeof w === "string" ? fitText(w, MAX_WARNING_CHARS) : w));
}

export function fitCompleteRequest(body: CompleteRequest): CompleteRequest {
  const result = { ...body.result };
  let warnings = Array.isArray(result.warnings) ? result.warnings : undefined;
  if (Array.isArray(result.archives) && result.archives.length > MAX_ARCHIVES) {
    // borg lists oldest first; the newest are the ones a user restores from.
    const total = result.archives.length;
    result.archives = result.archives.slice(total - MAX_ARCHIVES);
    warnings = [
      ...(warnings ?? []),
      `the archive list was cut to the newest ${grouped(MAX_ARCHIVES)} of ${grouped(total)} archives`,
    ];
  }
  if (warnings) result.warnings = fitWarnings(warnings);
  if (typeof result.archive_name === "string")
    result.archive_name = fitLine(result.archive_name, MAX_ARCHIVE_NAME_CHARS);
  return { ...body, result };
}

const fitLogEntry = (entry: LogEntry): LogEntry =>
  typeof entry.message === "string"
    ? { ...entry, message: fitText(entry.message, MAX_LOG_MESSAGE_CHARS) }
    : entry;

/**
 * One outbox item fitted to the caps: usually one item out, but a log batch longer than
 * one upload may carry becomes several, in order. Tolerant of a malformed item (e.g. one
 * read back from disk): it fixes lengths only and leaves the schema to judge the rest.
 */
export function fitOutboxItems(item: OutboxItem): OutboxItem[] {
  switch (item.kind) {
    case "logs": {
      const entries = Array.isArray(item.body?.entries) ? item.body.entries.map(fitLogEntry) : [];
      if (entries.length <= MAX_LOG_ENTRIES_PER_UPLOAD) return [{ ...item, body: { entries } }];
      const batches: OutboxItem[] = [];
      for (let i = 0; i < entries.length; i += MAX_LOG_ENTRIES_PER_UPLOAD) {
        batches.push({
          ...item,
          body: { entries: entries.slice(i, i + MAX_LOG_ENTRIES_PER_UPLOAD) },
        });
      }
      return batches;
    }
    case "complete":
      return item.body?.result ? [{ ...item, body: fitCompleteRequest(item.body) }] : [item];
    case "fail":
      return [
        {
          ...item,
          body: {
            ...item.body,
            error_message: fitOptional(item.body?.error_message, MAX_ERROR_MESSAGE_CHARS),
          },
        },
      ];
    default:
      return [item];
  }
}

export function fitProgress(report: ProgressRequest): ProgressRequest {
  const fitted = { ...report };
  if (typeof fitted.current_file === "string")
    fitted.current_file = fitText(fitted.current_file, MAX_PATH_CHARS);
  if (typeof fitted.phase === "string") fitted.phase = fitLine(fitted.phase, MAX_PHASE_CHARS);
  return fitted;
}

export function fitHeartbeat(body: HeartbeatRequest): HeartbeatRequest {
  const fitted = { ...body };
  if (typeof fitted.last_error === "string")
    fitted.last_error = fitText(fitted.last_error, MAX_LAST_ERROR_CHARS);
  if (typeof fitted.hostname === "string")
    fitted.hostname = fitLine(fitted.hostname, MAX_HOSTNAME_CHARS);
  if (typeof fitted.agent_version === "string")
    fitted.agent_version = fitLine(fitted.agent_version, MAX_VERSION_CHARS);
  if (fitted.borg_versions) {
    fitted.borg_versions = fitted.borg_versions.map((b) => ({
      ...b,
      version: fitLine(b.version, MAX_VERSION_CHARS),
      path: fitText(b.path, MAX_PATH_CHARS),
    }));
  }
  return fitted;
}
