/**
 * The README's test command on a machine that lacks borg and sshd: it must stop at once
 * with one message naming them and the command that installs them, not run the suite
 * into dozens of failures. borg and sshd are hidden from the check with its PREREQ_*
 * overrides, and PREREQ_NO_INSTALL stands for "not root", so nothing is installed here.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runProcess } from "../../src/shared/process/spawn.ts";
import { installAdvice, missingPrerequisites, PREREQUISITES } from "../prerequisites.ts";

const RUNNER = join(import.meta.dir, "../run.ts");

async function runChecks(env: Record<string, string>) {
  const result = await runProcess({
    argv: [process.execPath, RUNNER],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PREREQ_ONLY: "1", ...env },
    captureStdout: true,
    stderrTailLines: 20,
  });
  return { code: result.exitCode, lines: result.stdout.trim().split("\n") };
}

describe("test prerequisites", () => {
  test("borg and sshd hidden: one message with the install commands, and a failed count", async () => {
    const { code, lines } = await runChecks({
      PREREQ_BORG: "/nonexistent/borg",
      PREREQ_SSHD: "/nonexistent/sshd",
      PREREQ_NO_INSTALL: "1",
    });
    expect(code).toBe(1);
    expect(lines[0]).toStartWith("missing: borg (the real borg");
    expect(lines[0]).toContain(", sshd (a real sshd");
    expect(lines).toContain(
      "install on Debian/Ubuntu: sudo apt-get install -y borgbackup openssh-server",
    );
    expect(lines).toContain("install on macOS: brew install borgbackup");
    expect(lines.at(-1)).toBe("0 passed, 1 failed");
    // It stopped before any step ran.
    expect(lines.some((l) => l.startsWith("==="))).toBe(false);
  });

  test("with everything present the check passes (this machine runs the suite)", async () => {
    expect(missingPrerequisites().map((p) => p.name)).toEqual([]);
    const { code, lines } = await runChecks({});
    expect({ code, last: lines.at(-1) }).toEqual({ code: 0, last: "prerequisites: ok" });
  });

  test("the advice names casks apart and every Debian package once", () => {
    const advice = installAdvice(PREREQUISITES);
    expect(advice).toContain(
      "sudo apt-get install -y borgbackup openssh-server openssh-client shellcheck chromium postgresql",
    );
    expect(advice).toContain(
      "brew install borgbackup shellcheck postgresql@15 && brew install --cask chromium",
    );
  });
});
