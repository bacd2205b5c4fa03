/**
 * The only place in borgctl that starts processes (ARCHITECTURE.md, boundary 4).
 *
 * Everything that runs borg, ssh or any other program goes through spawnProcess, so
 * the rules live here once: argv arrays only (never a shell string), an environment
 * built from an allow-list (nothing leaks from the parent by accident: tokens, the
 * hub's secrets), both output pipes always drained, and one cancellation ladder.
 *
 * Lifecycle of one process:
 *   1. spawnProcess validates argv, builds the env, resolves the program (on the
 *      child's PATH) and starts it; a program that can't start throws
 *      ProcessStartError right there, synchronously. An already-aborted signal starts
 *      nothing: `done` resolves at once with aborted: true and pid -1.
 *   2. stdout and stderr are read concurrently until EOF (a child blocked on a full
 *      pipe never exits); each complete line goes to onStdoutLine / onStderrLine in
 *      order, stdout is optionally captured up to a byte cap, the last stderr lines
 *      are kept as a tail for error messages. onStdoutChunk instead gets stdout's raw
 *      bytes and may answer a promise: stdout is not read on until it settles, so a
 *      slow consumer holds the child at a full pipe (backpressure, nothing buffered
 *      here). A chunk consumer that throws or rejects cancels the child (nobody will
 *      read the rest) and makes `done` reject with its error.
 *   3. The child exits (code, or killed by a signal).
 *   4. `done` resolves once the child has exited AND both pipes hit EOF, i.e. after
 *      the last line callback ran. A grandchild that still holds a pipe keeps `done`
 *      pending; cancelling signals it too when processGroup is on (the default).
 *      `done` never rejects for a failed run; it rejects only when a line callback threw.
 *
 * Cancellation (opts.signal aborted, or cancel()): SIGINT, then SIGTERM if the
 * process is still running grace.interruptMs later, then SIGKILL after another
 * grace.terminateMs. SIGINT first because borg treats it as "stop cleanly" (it
 * writes a checkpoint archive and releases its lock). With processGroup the child
 * leads its own process group and every signal goes to the group, so ssh under borg
 * stops too. "Still running" means `done` has not settled; the timers are cleared
 * when it settles. Without processGroup nothing is sent once the child itself has
 * exited: its pid may already belong to someone else.
 */

import { ByteCapture, Tail } from "./buffers.ts";
import { describeSpawnError, ProcessStartError, resolveProgram } from "./child-program.ts";
import { LineSplitter } from "./lines.ts";

export { ProcessStartError } from "./child-program.ts";

export const DEFAULT_INHERITED_ENV: readonly string[] = Object.freeze([
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "USER",
  "LOGNAME",
  "TMPDIR",
]);

export interface SpawnOptions {
  /** argv[0] is the program (name looked up on PATH, or a path). Never a shell string. */
  argv: readonly string[];
  cwd?: string;
  /** Explicit variables, always passed (they win over inherited ones). */
  env?: Record<string, string>;
  /** Names copied from process.env when set; default DEFAULT_INHERITED_ENV. Nothing else leaks. */
  inheritEnv?: readonly string[];
  /** Written to the child's stdin, which is then closed; without it stdin is "ignore". */
  stdin?: string | Uint8Array;
  /** Abort starts the cancellation escalation (see module header). */
  signal?: AbortSignal;
  /** Escalation delays; defaults 10_000 and 5_000 ms. */
  grace?: { interruptMs?: number; terminateMs?: number };
  /** Called per complete line (no trailing \n or \r\n); a final unterminated line is delivered at EOF. */
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /**
   * stdout's bytes as they come, for binary output (borg extract --stdout); not with
   * onStdoutLine or captureStdout. A returned promise pauses reading until it settles.
   */
  onStdoutChunk?: (chunk: Uint8Array) => void | Promise<void>;
  /** Collect stdout text into result.stdout; default cap 64 MiB, beyond it stdoutTruncated is set. */
  captureStdout?: boolean | { maxBytes: number };
  /** Keep the last N stderr lines in result.stderrTail; default 50. Lines are cut at 4096 chars. */
  stderrTailLines?: number;
  /** Default true: the child leads its own process group and signals go to the whole group. */
  processGroup?: boolean;
}

export interface ProcessResult {
  /** null when killed by a signal (or never started). */
  exitCode: number | null;
  /** e.g. "SIGTERM" when killed by a signal, else null. */
  signal: string | null;
  /** True when cancellation (opts.signal aborted, or cancel()) was requested before the process ended. */
  aborted: boolean;
  /** Signals sent by cancellation, in order. */
  escalation: ("SIGINT" | "SIGTERM" | "SIGKILL")[];
  /** "" unless captureStdout. */
  stdout: string;
  stdoutTruncated: boolean;
  stderrTail: string[];
  durationMs: number;
}

export interface SpawnedProcess {
  readonly pid: number;
  /** Never rejects for a non-zero exit; resolves after both streams are fully read and line callbacks ran. */
  readonly done: Promise<ProcessResult>;
  /** Starts the same SIGINT → SIGTERM → SIGKILL escalation as aborting `signal`. */
  cancel(): void;
}

type EscalationSignal = ProcessResult["escalation"][number];

const ESCALATION_LADDER: readonly EscalationSignal[] = ["SIGINT", "SIGTERM", "SIGKILL"];
const DEFAULT_INTERRUPT_GRACE_MS = 10_000;
const DEFAULT_TERMINATE_GRACE_MS = 5_000;
const DEFAULT_CAPTURE_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_STDERR_TAIL_LINES = 50;
/** What execvp uses when the environment has no PATH at all. */
const FALLBACK_PATH = "/usr/bin:/bin";

export function spawnProcess(opts: SpawnOptions): SpawnedProcess {
  const startedAt = performance.now();
  validateArgv(opts.argv);
  const interruptMs = validDelay(
    "grace.interruptMs",
    opts.grace?.interruptMs,
    DEFAULT_INTERRUPT_GRACE_MS,
  );
  const terminateMs = validDelay(
    "grace.terminateMs",
    opts.grace?.terminateMs,
    DEFAULT_TERMINATE_GRACE_MS,
  );
  const captureMaxBytes = captureLimit(opts.captureStdout);
  const tailLines = validCount("stderrTailLines", opts.stderrTailLines, DEFAULT_STDERR_TAIL_LINES);
  const processGroup = opts.processGroup ?? true;
  if (opts.onStdoutChunk && (opts.onStdoutLine || captureMaxBytes !== null)) {
    throw new TypeError(
      "onStdoutChunk reads stdout as bytes: not with onStdoutLine or captureStdout",
    );
  }

  if (opts.signal?.aborted) return notStarted(startedAt);

  const env = buildChildEnv(opts.env, opts.inheritEnv ?? DEFAULT_INHERITED_ENV);
  const [name, ...args] = opts.argv as [string, ...string[]];
  const program = resolveProgram(name, env.PATH ?? FALLBACK_PATH, opts.cwd);

  let child: Bun.Subprocess<"ignore" | Uint8Array, "pipe", "pipe">;
  try {
    child = Bun.spawn({
      cmd: [program, ...args],
      argv0: name, // the child sees the argv it was given, not our resolved path
      cwd: opts.cwd,
      env,
      stdin: opts.stdin === undefined ? "ignore" : toBytes(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      detached: processGroup, // setsid(): the child leads a new process group
    });
  } catch (cause) {
    throw new ProcessStartError(name, describeSpawnError(cause), { cause });
  }

  // --- output -------------------------------------------------------------------
  let callbackError: { error: unknown } | undefined;
  const guard = (callback: ((line: string) => void) | undefined) => (line: string) => {
    if (!callback) return;
    try {
      callback(line);
    } catch (error) {
      // Keep draining (the child must never block on a full pipe); report it in `done`.
      callbackError ??= { error };
    }
  };

  const stdoutCapture = captureMaxBytes === null ? undefined : new ByteCapture(captureMaxBytes);
  const stdoutLines = opts.onStdoutLine ? new LineSplitter(guard(opts.onStdoutLine)) : undefined;
  const stderrTail = new Tail(tailLines);
  const onStderrLine = guard(opts.onStderrLine);
  const stderrLines = new LineSplitter((line) => {
    stderrTail.add(line);
    onStderrLine(line);
  });

  const onStdoutChunk = opts.onStdoutChunk;
  const stdoutRead = onStdoutChunk
    ? drainBytes(child.stdout, onStdoutChunk, (error) => {
        callbackError ??= { error };
        cancel();
      })
    : drain(child.stdout, (chunk) => {
        stdoutCapture?.add(chunk);
        stdoutLines?.push(chunk);
      }).then(() => stdoutLines?.end());
  const stderrRead = drain(child.stderr, (chunk) => stderrLines.push(chunk)).then(() =>
    stderrLines.end(),
  );

  // --- cancellation ---------------------------------------------------------------
  let childExited = false;
  let finished = false;
  let cancelRequested = false;
  let escalationTimer: ReturnType<typeof setTimeout> | undefined;
  const escalation: EscalationSignal[] = [];

  const deliver = (signal: EscalationSignal): boolean => {
    if (processGroup) {
      try {
        process.kill(-child.pid, signal);
        return true;
      } catch {
        // ESRCH: the group is gone, or (right after spawn) the child has not run
        // setsid() yet; in that case the child itself is still ours to signal.
      }
    }
    if (childExited) return false;
    child.kill(signal);
    return true;
  };

  const escalate = (step: number) => {
    escalationTimer = undefined;
    const signal = ESCALATION_LADDER[step];
    if (finished || signal === undefined || !deliver(signal)) return;
    escalation.push(signal);
    const delay = step === 0 ? interruptMs : terminateMs;
    if (step + 1 < ESCALATION_LADDER.length) {
      escalationTimer = setTimeout(() => escalate(step + 1), delay);
    }
  };

  const cancel = () => {
    if (finished || cancelRequested) return;
    cancelRequested = true;
    escalate(0);
  };
  opts.signal?.addEventListener("abort", cancel, { once: true });

  // --- completion -----------------------------------------------------------------
  const exited = child.exited.then(() => {
    childExited = true;
  });
  const done = Promise.all([exited, stdoutRead, stderrRead])
    .finally(() => {
      finished = true;
      if (escalationTimer !== undefined) clearTimeout(escalationTimer);
      opts.signal?.removeEventListener("abort", cancel);
    })
    .then((): ProcessResult => {
      if (callbackError) throw callbackError.error;
      return {
        exitCode: child.exitCode,
        signal: signalName(child.signalCode),
        aborted: cancelRequested,
        escalation: [...escalation],
        stdout: stdoutCapture?.text() ?? "",
        stdoutTruncated: stdoutCapture?.truncated ?? false,
        stderrTail: stderrTail.lines(),
        durationMs: elapsedMs(startedAt),
      };
    });

  return { pid: child.pid, done, cancel };
}

/** spawnProcess + await done. Start errors reject instead of throwing. */
export async function runProcess(opts: SpawnOptions): Promise<ProcessResult> {
  return spawnProcess(opts).done;
}

// --- helpers ----------------------------------------------------------------------

function notStarted(startedAt: number): SpawnedProcess {
  const result: ProcessResult = {
    exitCode: null,
    signal: null,
    aborted: true,
    escalation: [],
    stdout: "",
    stdoutTruncated: false,
    stderrTail: [],
    durationMs: elapsedMs(startedAt),
  };
  return { pid: -1, done: Promise.resolve(result), cancel: () => {} };
}

function validateArgv(argv: unknown): asserts argv is readonly [string, ...string[]] {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new TypeError("argv must be a non-empty array of strings");
  }
  argv.forEach((arg, i) => {
    if (typeof arg !== "string") throw new TypeError(`argv[${i}] must be a string`);
    if (arg.includes("\0")) throw new TypeError(`argv[${i}] contains a NUL character`);
  });
  if (argv[0] === "") throw new TypeError("argv[0] (the program) must not be empty");
}

function validDelay(what: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative number of milliseconds`);
  }
  return value;
}

function validCount(what: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative integer`);
  }
  return value;
}

/** Byte cap for captured stdout; null means "not capturing". */
function captureLimit(capture: SpawnOptions["captureStdout"]): number | null {
  if (capture === undefined || capture === false) return null;
  if (capture === true) return DEFAULT_CAPTURE_MAX_BYTES;
  return validCount("captureStdout.maxBytes", capture.maxBytes, DEFAULT_CAPTURE_MAX_BYTES);
}

/** The allow-listed part of process.env (read now, at call time), then the explicit env. */
function buildChildEnv(
  explicit: Record<string, string> | undefined,
  inherit: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inherit) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(explicit ?? {})) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}`);
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw new TypeError(`environment variable ${name} must be a string without NUL`);
    }
    env[name] = value;
  }
  return env;
}

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? new TextEncoder().encode(input) : input;
}

async function drain(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void) {
  for await (const chunk of stream) onChunk(chunk);
}

/**
 * Hands each chunk to the consumer and waits for it before reading on. After the consumer
 * failed, the rest is read and dropped (the child, being canceled, must not block on a
 * full pipe meanwhile).
 */
async function drainBytes(
  stream: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void | Promise<void>,
  onFailure: (error: unknown) => void,
) {
  let failed = false;
  for await (const chunk of stream) {
    if (failed) continue;
    try {
      await onChunk(chunk);
    } catch (error) {
      failed = true;
      onFailure(error);
    }
  }
}

function signalName(code: NodeJS.Signals | number | null): string | null {
  if (code === null) return null;
  return typeof code === "number" ? `SIG${code}` : code;
}

function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
