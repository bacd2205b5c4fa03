/**
 * The compiled host binary for e2e tests: reuse dist/borgctl when it is newer than every
 * source file, otherwise build it (host target only) once per test run.
 */
import { existsSync, statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { runProcess } from "../../src/shared/process/spawn.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(REPO_ROOT, "dist", "borgctl");

async function newestSourceMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSourceMtime(path));
    else newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

let building: Promise<string> | undefined;

export function hostBinary(): Promise<string> {
  building ??= (async () => {
    const sources = Math.max(
      await newestSourceMtime(join(REPO_ROOT, "src")),
      statSync(join(REPO_ROOT, "package.json")).mtimeMs,
    );
    if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= sources) return BINARY;
    const result = await runProcess({
      argv: [process.execPath, "build.ts", "--target", "host"],
      cwd: REPO_ROOT,
      captureStdout: true,
      stderrTailLines: 40,
    });
    if (result.exitCode !== 0) {
      throw new Error(`building the binary failed:\n${result.stderrTail.join("\n")}`);
    }
    return BINARY;
  })();
  return building;
}
