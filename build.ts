/**
 * Builds the single-file borgctl executables into dist/:
 *   bun run build                      all four targets + SHA256SUMS + dist/borgctl (host copy)
 *   bun run build --target linux-x64   one target (repeatable; "host" means this machine)
 *   bun build.ts --ui-only             only the web UI bundle (dist/ui-assets)
 *   bun build.ts --target host --if-stale   the host binary, unless dist/borgctl is newer than
 *                                      every source file (what `bun run start` and the e2e tests use)
 *
 * Version and commit are baked in with --define. Anything the binary reads at run time
 * (migrations, UI assets) is imported into the bundle, so the binary runs from any directory:
 * the web UI is bundled into dist/ui-assets first, and src/server/http/ui-macro.ts inlines it.
 * `bun build` can print "error:" yet exit 0 (e.g. a failed bytecode step), so any such
 * line fails the build.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "./package.json" with { type: "json" };
import { buildUi } from "./src/ui/build.ts";

const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];
const DIST = "dist";
const UI_ASSETS = `${DIST}/ui-assets`;

const hostTarget = `${process.platform}-${process.arch}` as Target;

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stderr: "pipe" });
  const commit = result.stdout.toString().trim();
  if (result.exitCode !== 0 || !commit) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"]);
  return dirty.stdout.toString().trim() ? `${commit}-dirty` : commit;
}

async function buildOne(target: Target, commit: string): Promise<string> {
  const outfile = `${DIST}/borgctl-${target}`;
  const argv = [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--sourcemap",
    "--bytecode",
    "--format=esm",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--target=bun-${target}`,
    `--define=BORGCTL_VERSION=${JSON.stringify(pkg.version)}`,
    `--define=BORGCTL_COMMIT=${JSON.stringify(commit)}`,
    "--outfile",
    outfile,
    "src/main.ts",
    // Started as a Worker (db/sqlite/checkpointer.ts): a compiled binary holds only the
    // entrypoints it is given.
    "src/server/db/sqlite/checkpoint-worker.ts",
  ];
  const started = performance.now();
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const output = `${out}${err}`;
  const errorLines = output.split("\n").filter((line) => /\berror:/i.test(line));
  if (code !== 0 || errorLines.length > 0) {
    process.stderr.write(output);
    throw new Error(
      `build of ${target} failed (exit ${code}): ${errorLines[0] ?? "see output above"}`,
    );
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`built ${outfile} in ${seconds}s`);
  return outfile;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** dist/borgctl exists and is newer than every file it is built from. */
async function hostBinaryIsFresh(): Promise<boolean> {
  const binary = `${DIST}/borgctl`;
  if (!existsSync(binary)) return false;
  const inputs = Math.max(
    await newestMtime("src"),
    ...["package.json", "bun.lock", "build.ts"].map((f) => statSync(f).mtimeMs),
  );
  return statSync(binary).mtimeMs >= inputs;
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

async function main() {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      target: { type: "string", multiple: true },
      "ui-only": { type: "boolean" },
      "if-stale": { type: "boolean" },
    },
    strict: true,
  });
  if (values["if-stale"]) {
    if ((values.target ?? []).join() !== "host")
      throw new Error("--if-stale goes with --target host");
    if (await hostBinaryIsFresh()) {
      console.log(`${DIST}/borgctl is up to date`);
      return;
    }
  }
  // The UI first: the compile step inlines dist/ui-assets (stale hashed files removed).
  const uiStarted = performance.now();
  await rm(UI_ASSETS, { recursive: true, force: true });
  const assets = await buildUi(UI_ASSETS);
  const uiBytes = assets.reduce((sum, a) => sum + Buffer.from(a.body, "base64").length, 0);
  const uiSeconds = ((performance.now() - uiStarted) / 1000).toFixed(2);
  console.log(`built ${UI_ASSETS} (${assets.length} files, ${uiBytes} bytes) in ${uiSeconds}s`);
  if (values["ui-only"]) return;
  const requested = (values.target ?? [...TARGETS]).map((t) => (t === "host" ? hostTarget : t));
  for (const t of requested) {
    if (!TARGETS.includes(t as Target)) {
      throw new Error(`unknown target "${t}"; use one of ${TARGETS.join(", ")} or host`);
    }
  }
  await mkdir(DIST, { recursive: true });
  const commit = gitCommit();
  const built: string[] = [];
  for (const target of requested as Target[]) built.push(await buildOne(target, commit));

  // SHA256SUMS lists exactly what this run built, in `sha256sum -c` format.
  const lines = await Promise.all(
    built.map(async (file) => `${await sha256(file)}  ${file.slice(DIST.length + 1)}`),
  );
  await writeFile(`${DIST}/SHA256SUMS`, `${lines.join("\n")}\n`);
  if (requested.includes(hostTarget)) {
    await rm(`${DIST}/borgctl`, { force: true });
    await copyFile(`${DIST}/borgctl-${hostTarget}`, `${DIST}/borgctl`);
  }
  console.log(
    `wrote ${DIST}/SHA256SUMS (${built.length} files), version ${pkg.version} (${commit})`,
  );
}

await main();
