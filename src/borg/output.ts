/**
 * What borg prints, as zod schemas: the `--log-json` lines on stderr (one event per
 * line) and the `--json` results on stdout of create, list and info.
 *
 * Shapes were read from captured output of 1.2.4 and 2.0.0b5 (test/fixtures/borg/).
 * Objects are loose (unknown keys kept) and fields that differ between versions are
 * optional: 2.x has no compressed sizes, 2.0.0b5's archive.command_line is a string
 * where 1.2.4 has a list. A line that fits no schema is kept as text, never dropped
 * and never thrown: stderr also carries plain lines (ssh's "Connection closed by
 * remote host", Python tracebacks) that belong in the job log. A --json result, on the
 * other hand, is read with readJsonResult, which says why it can't be read.
 */
import { z } from "zod";
import { describeIssues } from "../shared/zod-issues.ts";

// --- --log-json lines (stderr) ------------------------------------------------------

/** create progress, about 5 per second; the last one is only {time, type, finished: true}. */
export const ArchiveProgressEvent = z.looseObject({
  type: z.literal("archive_progress"),
  time: z.number().optional(),
  finished: z.boolean().optional(),
  original_size: z.number().optional(),
  /** 1.x only. */
  compressed_size: z.number().optional(),
  deduplicated_size: z.number().optional(),
  nfiles: z.number().optional(),
  /** Path being read, without the leading "/". */
  path: z.string().optional(),
});

/** A phase without a known total ("Initializing cache transaction: …"); `finished` ends it. */
export const ProgressMessageEvent = z.looseObject({
  type: z.literal("progress_message"),
  time: z.number().optional(),
  finished: z.boolean().optional(),
  operation: z.number().optional(),
  msgid: z.string().nullish(),
  message: z.string().optional(),
});

/** A phase with a total (check, compact, extract; not create). */
export const ProgressPercentEvent = z.looseObject({
  type: z.literal("progress_percent"),
  time: z.number().optional(),
  finished: z.boolean().optional(),
  operation: z.number().optional(),
  msgid: z.string().nullish(),
  message: z.string().optional(),
  current: z.number().optional(),
  total: z.number().optional(),
});

/** One file of create --list: status A (added), M (modified), U (unchanged), E (error), d (dir)… */
export const FileStatusEvent = z.looseObject({
  type: z.literal("file_status"),
  status: z.string(),
  path: z.string(),
});

export const LogMessageEvent = z.looseObject({
  type: z.literal("log_message"),
  time: z.number().optional(),
  /** DEBUG, INFO, WARNING, ERROR, CRITICAL. */
  levelname: z.string(),
  /** Logger name, e.g. "borg.archiver", "borg.output.list" (prune --list lines). */
  name: z.string().optional(),
  message: z.string(),
  /** On errors: the exception name, e.g. "PassphraseWrong", "LockTimeout", "Repository.DoesNotExist". */
  msgid: z.string().optional(),
});

export const QUESTION_EVENT_TYPES = [
  "question_prompt",
  "question_prompt_retry",
  "question_invalid_answer",
  "question_accepted_default",
  "question_accepted_true",
  "question_accepted_false",
  "question_env_answer",
] as const;

/** Borg asked something (and, with our env and closed stdin, got its answer at once). */
export const QuestionEvent = z.looseObject({
  type: z.enum(QUESTION_EVENT_TYPES),
  msgid: z.string().optional(),
  message: z.string().optional(),
  env_var: z.string().optional(),
});

export type ArchiveProgressEvent = z.infer<typeof ArchiveProgressEvent>;
export type ProgressMessageEvent = z.infer<typeof ProgressMessageEvent>;
export type ProgressPercentEvent = z.infer<typeof ProgressPercentEvent>;
export type FileStatusEvent = z.infer<typeof FileStatusEvent>;
export type LogMessageEvent = z.infer<typeof LogMessageEvent>;
export type QuestionEvent = z.infer<typeof QuestionEvent>;
/** Any stderr line that is not a known JSON event, as it was. */
export interface TextEvent {
  type: "text";
  message: string;
}

export type BorgLogEvent =
  | ArchiveProgressEvent
  | ProgressMessageEvent
  | ProgressPercentEvent
  | FileStatusEvent
  | LogMessageEvent
  | QuestionEvent
  | TextEvent;

const EVENT_SCHEMAS: Record<string, z.ZodType<BorgLogEvent>> = {
  archive_progress: ArchiveProgressEvent,
  progress_message: ProgressMessageEvent,
  progress_percent: ProgressPercentEvent,
  file_status: FileStatusEvent,
  log_message: LogMessageEvent,
  ...Object.fromEntries(QUESTION_EVENT_TYPES.map((type) => [type, QuestionEvent])),
};

/** One stderr line → one event. Never throws: what is not a known event is text. */
export function parseLogJsonLine(line: string): BorgLogEvent {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (!text.trimStart().startsWith("{")) return { type: "text", message: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { type: "text", message: text };
  }
  const type = (parsed as { type?: unknown } | null)?.type;
  const schema = typeof type === "string" ? EVENT_SCHEMAS[type] : undefined;
  const result = schema?.safeParse(parsed);
  return result?.success ? result.data : { type: "text", message: text };
}

const ERROR_LEVELS = new Set(["ERROR", "CRITICAL"]);

export function isErrorLogMessage(event: BorgLogEvent): event is LogMessageEvent {
  return event.type === "log_message" && ERROR_LEVELS.has(event.levelname);
}

/**
 * The line a human would want in a job log for this event, or undefined for pure
 * progress (archive_progress, progress_*), which a UI shows as numbers instead.
 */
export function describeBorgEvent(event: BorgLogEvent): string | undefined {
  switch (event.type) {
    case "log_message":
      return event.message.trim();
    case "text":
      return event.message;
    case "file_status":
      return `${event.status} ${event.path}`;
    case "archive_progress":
    case "progress_message":
    case "progress_percent":
      return undefined;
    default:
      return event.message?.trim();
  }
}

// --- --json results (stdout) --------------------------------------------------------

export const BorgRepositoryJson = z.looseObject({
  id: z.string(),
  location: z.string(),
  /** 1.x: naive timestamp (UTC under buildBorgEnv's TZ=UTC); 2.x: with offset. */
  last_modified: z.string().optional(),
});

export const BorgEncryptionJson = z.looseObject({
  mode: z.string(),
  keyfile: z.string().optional(),
});

export const BorgCacheJson = z.looseObject({
  path: z.string().optional(),
  stats: z
    .looseObject({
      total_chunks: z.number().optional(),
      total_size: z.number().optional(),
      total_csize: z.number().optional(),
      total_unique_chunks: z.number().optional(),
      unique_size: z.number().optional(),
      unique_csize: z.number().optional(),
    })
    .optional(),
});

/** stdout of `create --json`. */
export const BorgCreateResult = z.looseObject({
  archive: z.looseObject({
    name: z.string(),
    id: z.string(),
    start: z.string().optional(),
    end: z.string().optional(),
    duration: z.number().optional(),
    stats: z.looseObject({
      original_size: z.number(),
      /** 1.x only. */
      compressed_size: z.number().optional(),
      deduplicated_size: z.number(),
      nfiles: z.number(),
    }),
  }),
  repository: BorgRepositoryJson,
  encryption: BorgEncryptionJson.optional(),
  cache: BorgCacheJson.optional(),
});

export const BorgArchiveJson = z.looseObject({
  name: z.string(),
  id: z.string(),
  start: z.string().optional(),
  time: z.string().optional(),
  end: z.string().optional(),
  hostname: z.string().optional(),
  username: z.string().optional(),
  comment: z.string().optional(),
});

/** stdout of `list --json` (1.x) / `rlist --json`, `repo-list --json` (2.x). */
export const BorgListResult = z.looseObject({
  archives: z.array(BorgArchiveJson),
  repository: BorgRepositoryJson,
  encryption: BorgEncryptionJson.optional(),
});

/** stdout of repository `info --json` (1.x) / `rinfo --json`, `repo-info --json` (2.x). */
export const BorgInfoResult = z.looseObject({
  repository: BorgRepositoryJson,
  encryption: BorgEncryptionJson.optional(),
  cache: BorgCacheJson.optional(),
  security_dir: z.string().optional(),
});

/**
 * One line of `list --json-lines` over an archive's members (1.2.4: type, mode, user,
 * group, uid, gid, path, healthy, source, linktarget, flags, size, mtime). `type` is the
 * first letter of `ls -l`'s mode: "d" directory, "-" file, "l" symlink, or a device,
 * fifo or socket letter.
 */
export const BorgListItem = z.looseObject({
  type: z.string(),
  path: z.string(),
  mode: z.string().optional(),
  size: z.number().int().min(0).optional(),
  mtime: z.string().optional(),
});
export type BorgListItem = z.infer<typeof BorgListItem>;

/** One --json-lines line as an item, or why it is not one. */
export function parseListItemLine(
  line: string,
): { ok: true; item: BorgListItem } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, error: `a listing line is not JSON (${(error as Error).message})` };
  }
  const parsed = BorgListItem.safeParse(json);
  return parsed.success
    ? { ok: true, item: parsed.data }
    : { ok: false, error: `unexpected listing line: ${describeIssues(parsed.error.issues)}` };
}

export type BorgCreateResult = z.infer<typeof BorgCreateResult>;
export type BorgArchiveJson = z.infer<typeof BorgArchiveJson>;
export type BorgListResult = z.infer<typeof BorgListResult>;
export type BorgInfoResult = z.infer<typeof BorgInfoResult>;

/** The --json result of a run, read with its schema: the data, or why it can't be read. */
export type JsonResultRead<T> = { ok: true; data: T } | { ok: false; error: string };

/**
 * Reads a finished run's stdout (runBorg's `json`, or its `jsonError`) with one of the
 * schemas above. Never throws: a document that is missing, not JSON or not the expected
 * shape is an error saying which, for the job's failure message — a result is never
 * quietly taken as empty.
 */
export function readJsonResult<T>(
  schema: z.ZodType<T>,
  run: { json?: unknown; jsonError?: string },
): JsonResultRead<T> {
  if (run.json === undefined) return { ok: false, error: run.jsonError ?? "stdout is empty" };
  const parsed = schema.safeParse(run.json);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, error: `unexpected JSON: ${describeIssues(parsed.error.issues)}` };
}

/**
 * A borg timestamp as RFC 3339 UTC. 1.x prints naive local time, which is UTC because
 * buildBorgEnv sets TZ=UTC; 2.x prints an offset. Undefined when it is not a date.
 */
export function borgTimestampToIso(timestamp: string): string | undefined {
  const hasOffset = /(Z|[+-]\d\d:?\d\d)$/.test(timestamp);
  const date = new Date(hasOffset ? timestamp : `${timestamp}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * borg reports an unexpected error ("Local Exception") as a Python traceback followed by
 * platform lines (Platform:, Borg:, PID:, sys.argv:, SSH_ORIGINAL_COMMAND:). The line that
 * says what happened ("OSError: [Errno 28] No space left on device") is the first
 * unindented line after the traceback's frames; put it first, so the job's error says it
 * at a glance and survives any truncation. With chained exceptions the last one counts.
 */
export function leadWithException(message: string): string {
  let inTraceback = false;
  let exception: string | undefined;
  for (const line of message.split("\n")) {
    if (line.startsWith("Traceback (most recent call last)")) inTraceback = true;
    else if (inTraceback && line.trim() !== "" && !/^\s/.test(line)) {
      exception = line.trim();
      inTraceback = false;
    }
  }
  return exception && !message.startsWith(exception) ? `${exception}\n\n${message}` : message;
}
