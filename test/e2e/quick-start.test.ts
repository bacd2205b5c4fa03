/**
 * README's command 1 runs the product, not a dev server: `bun run start` builds the host
 * binary when it is stale and starts `borgctl server` from it, which prints the URL, the
 * first admin's password once, and what to do next.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnProcess } from "../../src/shared/process/spawn.ts";
import { hostBinary, REPO_ROOT } from "../helpers/binary.ts";

let home: string | undefined;
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe("bun run start", () => {
  test("starts the compiled hub and tells a newcomer where to go", async () => {
    await hostBinary(); // built once for the e2e suite; start reuses it (--if-stale)
    home = await mkdtemp(join(tmpdir(), "borgctl-start-"));
    const lines: string[] = [];
    const next = Promise.withResolvers<string>();
    const proc = spawnProcess({
      argv: [process.execPath, "run", "start"],
      cwd: REPO_ROOT,
      env: {
        HOME: home,
        NO_COLOR: "1",
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        BORGCTL_ADDR: "127.0.0.1:0",
      },
      onStdoutLine: (line) => {
        lines.push(line);
        const url = /^Next: open (http:\/\/\S+) in a browser/.exec(line)?.[1];
        if (url) next.resolve(url);
      },
      onStderrLine: (line) => lines.push(line),
    });
    try {
      const url = await Promise.race([
        next.promise,
        proc.done.then((r) => {
          throw new Error(`bun run start exited (${r.exitCode}):\n${lines.join("\n")}`);
        }),
      ]);
      const output = lines.join("\n");
      expect(output).toContain("dist/borgctl is up to date");
      expect(output).toMatch(/created user "admin" with password \S{20,}/);
      expect(output).toContain("sign in as admin, then Machines → Add machine");
      // It is the compiled binary answering, with its baked-in version.
      const health = (await (await fetch(`${url}/api/health`)).json()) as { version: string };
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(output).not.toContain("src/main.ts");
    } finally {
      proc.cancel();
      await proc.done;
    }
  });
});
