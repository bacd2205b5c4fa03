/**
 * The compiled binary as a user runs it: version, help, usage errors, and the box role
 * starting from an empty directory and stopping on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { hostBinary } from "../helpers/binary.ts";

let binary: string;
let workDir: string;

beforeAll(async () => {
  binary = await hostBinary();
  workDir = await mkdtemp(join(tmpdir(), "borgctl-e2e-"));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) =>
  runProcess({
    argv: [binary, ...args],
    cwd: "/",
    env: { NO_COLOR: "1", ...env },
    captureStdout: true,
  });

describe("borgctl binary", () => {
  test("--version prints the baked-in version and commit, from /", async () => {
    const result = await run(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toMatch(
      new RegExp(`^${pkg.version.replaceAll(".", "\\.")} \\((\\w+|unknown)(-dirty)?\\)$`),
    );
    expect(result.stdout).not.toContain("(dev)");
  });

  test("--help lists the four commands", async () => {
    const result = await run(["--help"]);
    expect(result.exitCode).toBe(0);
    for (const command of ["server", "agent", "box", "version"]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\s`, "m"));
    }
    expect(result.stdout).not.toContain("\x1b[");
  });

  test("every level has --help", async () => {
    for (const args of [["box"], ["server"], ["agent"], ["agent", "register"], ["version"]]) {
      const result = await run([...args, "--help"]);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain(`borgctl ${args.join(" ")}`);
    }
  });

  test("an unknown flag exits 2 with one line naming the fix", async () => {
    const result = await run(["box", "--bogus"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderrTail).toEqual([
      'error: Unknown option "--bogus" for borgctl box. Run "borgctl box --help" to see what it accepts.',
    ]);
  });

  test("a flag without its value exits 2", async () => {
    const result = await run(["box", "--token"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderrTail).toEqual([
      "error: Option --token needs a value: --token <token|@file>.",
    ]);
  });

  test("bad configuration exits 2 listing every problem", async () => {
    const result = await run(["box", "--addr", "nowhere"], { BORGBOX_TOKEN: "short" });
    expect(result.exitCode).toBe(2);
    const text = result.stderrTail.join("\n");
    expect(text).toContain("addr:");
    expect(text).toContain("token: must be at least 16 characters");
    expect(text).not.toContain("short");
  });

  test("an agent that was never registered says what to do, exit 1", async () => {
    const result = await run(["agent", "status", "--config", "/nonexistent/agent.toml"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderrTail.join("\n")).toContain('run "borgctl agent register" first');
  });

  test("box starts in an empty directory, answers /health, stops on SIGTERM", async () => {
    const home = join(workDir, "home");
    const lines: string[] = [];
    let announce: (url: string) => void = () => {};
    const listening = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const box = spawnProcess({
      argv: [binary, "box", "--addr", "127.0.0.1:0", "--repo-root", join(workDir, "repos")],
      cwd: workDir,
      env: { HOME: home, BORGBOX_TOKEN: "e2e-token-0123456789abcdef", NO_COLOR: "1" },
      onStderrLine: (line) => {
        lines.push(line);
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (url) announce(url);
      },
    });
    try {
      const url = await Promise.race([
        listening,
        box.done.then((r) => {
          throw new Error(`box exited early (${r.exitCode}): ${lines.join("\n")}`);
        }),
      ]);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      const unauthorized = await fetch(`${url}/repos`);
      expect(unauthorized.status).toBe(401);
    } finally {
      process.kill(box.pid, "SIGTERM");
    }
    const deadline = new Promise<"timeout">((resolve) =>
      setTimeout(() => resolve("timeout"), 2000),
    );
    const outcome = await Promise.race([box.done, deadline]);
    if (outcome === "timeout") box.cancel();
    expect(outcome).not.toBe("timeout");
    expect(outcome === "timeout" ? undefined : outcome.exitCode).toBe(0);
    expect(lines.join("\n")).toContain("stopped");
    expect(lines.join("\n")).not.toContain("e2e-token-0123456789abcdef");
  });
});
