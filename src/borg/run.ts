/**
 * Running borg: one built command → one process → one BorgRunResult, and detecting
 * which borg a path is.
 *
 * Lifecycle of runBorg:
 *   1. argv = [borgPath, ...command.argv]; env = buildBorgEnv's env with command.env
 *      over it. Only PATH, HOME, USER, LOGNAME and TMPDIR come from our own environment
 *      (ssh needs PATH and HOME); LANG/LC_* do not, so LANG=C.UTF-8 really applies.
 *   2. Every stderr line (with the passphrase, should it ever appear, redacted) is parsed (parseLogJsonLine) and handed to onEvent in order;
 *      human-readable ones are remembered for the error message.
 *   3. Abort of `signal` starts spawnProcess's SIGINT → SIGTERM → SIGKILL ladder. SIGINT
 *      first: borg stops cleanly, leaves a checkpoint and releases its lock.
 *   4. When the process is gone and its output read: exit classification (exit.ts),
 *      stdout parsed as JSON when captureJson — or, when it is not one JSON document
 *      (empty, cut at the cap, not JSON), `jsonError` saying why — and the best error
 *      message. Whether a jsonError fails the job is the caller's to say: after a borg
 *      error stdout is often empty, after a success it must not be.
 * runBorg resolves for every borg failure, including "cannot start the program"
 * (outcome "error"); it rejects only when onEvent or onStdoutLine throws, or onStdoutChunk
 * rejects.
 */
import { Redactor } from "../shared/log.ts";
import { ProcessStartError, runProcess, spawnProcess } from "../shared/process/spawn.ts";
import type { BorgCommand } from "./commands/common.ts";
import { buildVersionCommand } from "./commands/version.ts";
import { type BorgOutcome, classifyExit } from "./exit.ts";
import {
  type BorgLogEvent,
  describeBorgEvent,
  isErrorLogMessage,
  type LogMessageEvent,
  leadWithException,
  parseLogJsonLine,
} from "./output.ts";
import { type BorgVersion, parseBorgVersion } from "./version.ts";

export interface RunBorgOptions {
  borgPath: string;
  command: BorgCommand;
  /** From buildBorgEnv. */
  env: Record<string, string>;
  signal?: AbortSignal;
  onEvent?: (event: BorgLogEvent) => void;
  /** Parse stdout as one JSON document (commands built with `--json`). */
  captureJson?: boolean;
  /**
   * Every stdout line, in order, as it comes (commands built with `--json-lines`, whose
   * output may be far larger than anything worth holding in memory). Not redacted: it is
   * borg's data output, never a message.
   */
  onStdoutLine?: (line: string) => void;
  /**
   * stdout's raw bytes (`extract --stdout`: a file's content); a returned promise pauses
   * reading, so borg waits at a full pipe until the consumer caught up. A consumer that
   * rejects cancels borg, and runBorg rejects with its error.
   */
  onStdoutChunk?: (chunk: Uint8Array) => void | Promise<void>;
  /** borg's working directory (extract writes into it). */
  cwd?: string;
  /** Cancellation delays: SIGINT, then SIGTERM after interruptMs, SIGKILL after terminateMs more. */
  grace?: { interruptMs?: number; terminateMs?: number };
}

export interface BorgRunResult {
  outcome: BorgOutcome;
  exitCode: number | null;
  signal: string | null;
  /** Parsed stdout when captureJson and it was JSON; validate it with an output.ts schema. */
  json?: unknown;
  /** When captureJson and stdout was not one JSON document: why (never set with `json`). */
  jsonError?: string;
  /**
   * Unless ok, the best human message: for a warning borg's WARNING lines, else the last
   * ERROR/CRITICAL log_message (with ssh's reason when the connection closed), else the
   * last readable lines.
   */
  errorMessage?: string;
  /** The last raw stderr lines. */
  stderrTail: string[];
  durationMs: number;
}

/** What borg needs from our own environment; everything else it gets from buildBorgEnv. */
const INHERITED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "TMPDIR"] as const;
/** `create --json` output is a few KB; list of a huge repo can be MBs. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const STDERR_TAIL_LINES = 50;
/** How many readable lines make the fallback error message. */
const MESSAGE_LINES = 5;
/** How many of ssh's lines go with a "connection closed" error. */
const REMOTE_LINES = 2;

export async function runBorg(options: RunBorgOptions): Promise<BorgRunResult> {
  const started = performance.now();
  let lastError: LogMessageEvent | undefined;
  const readable: string[] = [];
  const warnings: string[] = [];
  const remote: string[] = [];
  // Borg does not echo the passphrase, but a line that did would go to the hub's logs:
  // cut it out before anything sees the line.
  const redactor = new Redactor();
  redactor.add(options.env.BORG_PASSPHRASE);

  const onStderrLine = (rawLine: string) => {
    const line = redactor.redact(rawLine);
    if (line.trim() === "") return;
    const event = parseLogJsonLine(line);
    if (isErrorLogMessage(event)) lastError = event;
    const text = describeBorgEvent(event);
    if (text) keepLast(readable, text, MESSAGE_LINES);
    if (event.type === "log_message" && event.levelname === "WARNING" && text) {
      keepLast(warnings, text, MESSAGE_LINES);
    }
    // What ssh (or the remote borg) said: borg relays it as "Remote: …" WARNING lines.
    if (text && (event.type === "text" || text.startsWith("Remote: "))) {
      keepLast(remote, text, REMOTE_LINES);
    }
    options.onEvent?.(event);
  };

  let child: ReturnType<typeof spawnProcess>;
  try {
    child = spawnProcess({
      argv: [options.borgPath, ...options.command.argv],
      env: { ...options.env, ...options.command.env },
      inheritEnv: INHERITED_ENV,
      signal: options.signal,
      grace: options.grace,
      onStderrLine,
      ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
      ...(options.onStdoutChunk ? { onStdoutChunk: options.onStdoutChunk } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      captureStdout: options.captureJson ? { maxBytes: MAX_JSON_BYTES } : false,
      stderrTailLines: STDERR_TAIL_LINES,
    });
  } catch (error) {
    if (!(error instanceof ProcessStartError)) throw error;
    return {
      outcome: "error",
      exitCode: null,
      signal: null,
      errorMessage: error.message,
      stderrTail: [],
      durationMs: Math.round(performance.now() - started),
    };
  }

  const result = await child.done;
  const outcome = classifyExit(result.exitCode, result.signal, { canceled: result.aborted });
  const runResult: BorgRunResult = {
    outcome,
    exitCode: result.exitCode,
    signal: result.signal,
    stderrTail: result.stderrTail.map((line) => redactor.redact(line)),
    durationMs: result.durationMs,
  };
  if (options.captureJson) {
    const parsed = result.stdoutTruncated
      ? { error: `stdout is over ${MAX_JSON_BYTES / 1024 / 1024} MiB` }
      : parseJson(result.stdout);
    if ("json" in parsed) runResult.json = parsed.json;
    else runResult.jsonError = parsed.error;
  }
  if (outcome !== "ok") {
    runResult.errorMessage = bestMessage({
      outcome,
      lastError,
      warnings,
      readable,
      remote,
      result,
    });
  }
  return runResult;
}

/**
 * A warning is best told by borg's WARNING lines (e.g. the missing source file), an
 * error by its last ERROR line; else whatever readable lines came last.
 */
function bestMessage(seen: {
  outcome: BorgOutcome;
  lastError: LogMessageEvent | undefined;
  warnings: string[];
  readable: string[];
  remote: string[];
  result: { exitCode: number | null; signal: string | null };
}): string {
  if (seen.outcome === "warning" && seen.warnings.length > 0) return seen.warnings.join("\n");
  if (seen.lastError) return errorText(seen.lastError, seen.remote);
  if (seen.readable.length > 0) return seen.readable.join("\n");
  if (seen.outcome === "canceled") return "canceled";
  return describeExit(seen.result.exitCode, seen.result.signal);
}

function keepLast(lines: string[], line: string, max: number): void {
  lines.push(line);
  if (lines.length > max) lines.shift();
}

/**
 * Borg's own error line, plus ssh's last words when the connection was the problem:
 * "Connection closed by remote host" alone does not say that the host key changed or
 * the key was refused (seen with 1.2.4: msgid ConnectionClosedWithHint).
 */
function errorText(error: LogMessageEvent, remote: string[]): string {
  const message = leadWithException(error.message.trim());
  if (!error.msgid?.startsWith("ConnectionClosed") || remote.length === 0) return message;
  return [message, ...remote].join("\n");
}

/** stdout as one JSON document, or why it is not one (the parser's own words). */
function parseJson(stdout: string): { json: unknown } | { error: string } {
  const text = stdout.trim();
  if (text === "") return { error: "stdout is empty" };
  try {
    return { json: JSON.parse(text) };
  } catch (error) {
    return { error: `stdout is not JSON (${(error as Error).message})` };
  }
}

function describeExit(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `borg was killed by ${signal}`;
  if (exitCode !== null) return `borg exited with code ${exitCode}`;
  return "borg ended without an exit code";
}

export interface DetectedBorg {
  path: string;
  version: BorgVersion;
}

/**
 * Runs `<path> --version`; undefined when it can't start, fails, hangs past timeoutMs
 * or prints something that is not a borg version.
 */
export async function detectBorg(
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<DetectedBorg | undefined> {
  try {
    const result = await runProcess({
      argv: [path, ...buildVersionCommand().argv],
      env: { LANG: "C.UTF-8" },
      inheritEnv: INHERITED_ENV,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      grace: { interruptMs: 1_000, terminateMs: 1_000 },
      captureStdout: { maxBytes: 64 * 1024 },
    });
    if (result.exitCode !== 0) return undefined;
    const version = parseBorgVersion(result.stdout);
    return version ? { path, version } : undefined;
  } catch (error) {
    if (error instanceof ProcessStartError) return undefined;
    throw error;
  }
}
