/**
 * The compiled host binary for e2e tests: `bun build.ts --target host --if-stale` reuses
 * dist/borgctl when it is newer than every source file and builds it otherwise — the same
 * rule `bun run start` uses — once per test run.
 */
import { join, resolve } from "node:path";
import { runProcess } from "../../src/shared/process/spawn.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(REPO_ROOT, "dist", "borgctl");

let building: Promise<string> | undefined;

export function hostBinary(): Promise<string> {
  building ??= (async () => {
    const result = await runProcess({
      argv: [process.execPath, "build.ts", "--target", "host", "--if-stale"],
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
