/**
 * Startup time of the compiled binary (`borgctl --version`), against a baseline in the
 * same run: a compiled one-line Bun program built with the same flags. The difference
 * is what borgctl's own code costs at startup. Not a test: prints a table.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../src/shared/process/spawn.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { recordResult } from "./results.ts";
import { printTable, summarize } from "./stats.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 40);

async function time(argv: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const started = performance.now();
    const result = await runProcess({ argv, captureStdout: true });
    const ms = performance.now() - started;
    if (result.exitCode !== 0)
      throw new Error(`${argv.join(" ")} failed: ${result.stderrTail.join("\n")}`);
    if (i >= 3) samples.push(ms); // the first runs warm the page cache
  }
  return samples;
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-"));
try {
  const binary = await hostBinary();
  await writeFile(join(dir, "hello.ts"), 'console.log("0.0.0");\n');
  const build = await runProcess({
    argv: [
      process.execPath,
      "build",
      "--compile",
      "--minify",
      "--bytecode",
      "--format=esm",
      "--outfile",
      join(dir, "hello"),
      join(dir, "hello.ts"),
    ],
    stderrTailLines: 20,
  });
  if (build.exitCode !== 0)
    throw new Error(`baseline build failed: ${build.stderrTail.join("\n")}`);
  const hello = summarize(await time([join(dir, "hello")]));
  const version = summarize(await time([binary, "--version"]));
  const help = summarize(await time([binary, "--help"]));
  const rows = [
    ["compiled hello world (baseline)", ...Object.values(hello)],
    ["borgctl --version", ...Object.values(version)],
    ["borgctl --help", ...Object.values(help)],
  ];
  for (const [label, measured] of [
    ["start-up: borgctl --version", version],
    ["start-up: borgctl --help", help],
  ] as const) {
    recordResult({
      measure: label,
      setup: `${RUNS} runs`,
      value: `median ${measured.median.toFixed(1)} ms, p95 ${measured.p95.toFixed(1)} ms`,
      baseline: `compiled hello world: median ${hello.median.toFixed(1)} ms`,
      ratio: `${(measured.median / hello.median).toFixed(2)}×`,
      goal: "",
    });
  }
  const [binarySize, helloSize] = [Bun.file(binary).size, Bun.file(join(dir, "hello")).size];
  recordResult({
    measure: "binary size (host target)",
    setup: "dist/borgctl",
    value: `${(binarySize / 2 ** 20).toFixed(1)} MiB`,
    baseline: `compiled hello world: ${(helloSize / 2 ** 20).toFixed(1)} MiB`,
    ratio: `${(binarySize / helloSize).toFixed(2)}×`,
    goal: "",
  });
  printTable(
    `startup, ${RUNS} runs each (ms, wall clock incl. spawn)`,
    ["command", "n", "median", "p95", "max"],
    rows,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
