/**
 * The one table from how a borg process ended to what it means for a job. There is no
 * other: the agent reports the outcome classified here (ok → complete, warning →
 * complete with borg's warnings, error → fail), and the hub records that report without
 * a table of its own (server/services/job-payload.ts completedStatus).
 *
 *   exit code        legacy (1.2, 1.4 default)   modern (BORG_EXIT_CODES=modern, 2.0.0b9+ default)
 *   0                ok                          ok
 *   1                warning                     warning (generic)
 *   2                error                       error (generic)
 *   3–99             —                           error (specific, e.g. lock timeout)
 *   100–127          —                           warning (specific, e.g. file changed)
 *   128+N            killed by signal N (when borg runs under something that reports it so)
 *   none, signal     killed by a signal
 *
 * Cancellation: when we asked the process to stop, an error or a signal means
 * "canceled" (borg 1.2.4 answers SIGINT by finishing the current file, writing
 * NAME.checkpoint and exiting 2). An exit of 0 or 1 means borg finished before the
 * request took effect: the work is done, so the outcome stays ok / warning.
 */

export type BorgOutcome = "ok" | "warning" | "error" | "canceled";

export function classifyExit(
  exitCode: number | null,
  signal: string | null,
  opts: { canceled?: boolean } = {},
): BorgOutcome {
  const outcome = classifyByCode(exitCode, signal);
  if (opts.canceled && (outcome === "error" || outcome === "signal")) return "canceled";
  return outcome === "signal" ? "error" : outcome;
}

function classifyByCode(
  exitCode: number | null,
  signal: string | null,
): Exclude<BorgOutcome, "canceled"> | "signal" {
  if (exitCode === null) return signal !== null ? "signal" : "error";
  if (exitCode === 0) return "ok";
  if (exitCode === 1) return "warning";
  if (exitCode >= 2 && exitCode <= 99) return "error";
  if (exitCode >= 100 && exitCode <= 127) return "warning";
  if (exitCode >= 128 && exitCode <= 255) return "signal";
  return "error"; // negative or > 255: not something borg exits with
}
