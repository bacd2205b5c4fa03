/**
 * Rows for bench/RESULTS.md. A benchmark run by `bun run bench` (bench/run.ts) appends
 * each measured row, with its same-run baseline and its goal, to the JSON-lines file
 * named by BENCH_RESULTS_FILE; run.ts renders them. Run alone, a benchmark only prints.
 */
import { appendFileSync } from "node:fs";

export interface ResultRow {
  /** Which benchmark and what it measures ("empty poll throughput, SQLite"). */
  measure: string;
  /** N, connections, seconds: what the row was measured with. */
  setup: string;
  /** The measured value(s), rendered ("13,418 req/s; p50 4.1 ms; p99 10.2 ms"). */
  value: string;
  /** The same-run baseline, rendered; "" when there is none. */
  baseline: string;
  /** The number the goal is stated in (a ratio, ms, KB), rendered. */
  ratio: string;
  /** The goal in words ("≥ 0.5× bare"); "" when the row only reports. */
  goal: string;
  /** undefined when the row has no goal. */
  met?: boolean;
}

export function recordResult(row: ResultRow): void {
  const file = process.env.BENCH_RESULTS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** p-quantile of samples (nearest rank, as the tables print it). */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
