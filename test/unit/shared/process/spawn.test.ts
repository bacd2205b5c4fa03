import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_INHERITED_ENV,
  ProcessStartError,
  runProcess,
  type SpawnedProcess,
  type SpawnOptions,
  spawnProcess,
} from "../../../../src/shared/process/spawn.ts";

/** Runs a POSIX sh script (argv array, not a shell string handed to us). */
const sh = (script: string, opts: Omit<SpawnOptions, "argv"> = {}) =>
  runProcess({ argv: ["sh", "-c", script], ...opts });

/** Short grace periods so escalation tests take fractions of a second. */
const QUICK_GRACE = { interruptMs: 200, terminateMs: 200 };

/**
 * Starts a script that prints "ready" once its traps are installed, and resolves
 * after that line arrived, so a cancel can never race the trap setup.
 */
async function spawnReady(script: string, opts: Omit<SpawnOptions, "argv"> = {}) {
  const stdout: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const proc: SpawnedProcess = spawnProcess({
    argv: ["sh", "-c", script],
    grace: QUICK_GRACE,
    ...opts,
    onStdoutLine: (line) => {
      stdout.push(line);
      if (line === "ready") onReady();
    },
  });
  await ready;
  return { proc, stdout };
}

/**
 * Gone = no such process, or a zombie: where PID 1 does not reap orphans (some
 * containers) a killed grandchild stays a zombie, and kill(pid, 0) still succeeds on it.
 */
async function isGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

async function waitUntilGone(pid: number, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isGone(pid)) return true;
    await Bun.sleep(25);
  }
  return isGone(pid);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "borgctl-spawn-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("output lines", () => {
  test("stdout and stderr lines arrive complete and in order, many of them quickly", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const result = await sh(
      'i=0; while [ $i -lt 3000 ]; do echo "out $i é€"; echo "err $i" >&2; i=$((i+1)); done; printf last',
      { onStdoutLine: (l) => out.push(l), onStderrLine: (l) => err.push(l) },
    );
    expect(result.exitCode).toBe(0);
    expect(out.length).toBe(3001);
    expect(out.slice(0, 3000)).toEqual(Array.from({ length: 3000 }, (_, i) => `out ${i} é€`));
    expect(out[3000]).toBe("last");
    expect(err).toEqual(Array.from({ length: 3000 }, (_, i) => `err ${i}`));
  });

  test("handles CRLF, empty lines, and a character split across two writes", async () => {
    const out: string[] = [];
    // \303 then \251 is "é"; the sleep makes the two bytes arrive as separate chunks.
    await sh("printf 'a\\r\\n\\r\\nb\\303'; sleep 0.1; printf '\\251\\nend'", {
      onStdoutLine: (l) => out.push(l),
    });
    expect(out).toEqual(["a", "", "bé", "end"]);
  });

  test("line callbacks all ran by the time done resolves", async () => {
    let count = 0;
    const result = await sh("seq 1 500", { onStdoutLine: () => count++ });
    expect(result.exitCode).toBe(0);
    expect(count).toBe(500);
  });

  test("a throwing line callback rejects done, after the child was still drained to the end", async () => {
    const boom = new Error("callback bug");
    let calls = 0;
    const done = sh("seq 1 20000; echo finished >&2", {
      onStdoutLine: () => {
        calls++;
        throw boom;
      },
    });
    await expect(done).rejects.toBe(boom);
    expect(calls).toBe(20000);
  });
});

describe("exit status", () => {
  test.each([0, 3, 130])("reports exit code %d", async (code) => {
    const result = await sh(`exit ${code}`);
    expect(result.exitCode).toBe(code);
    expect(result.signal).toBeNull();
    expect(result.aborted).toBe(false);
    expect(result.escalation).toEqual([]);
  });

  test("a child killed by a signal reports the signal and exitCode null", async () => {
    const term = await sh("kill -TERM $$");
    expect(term.exitCode).toBeNull();
    expect(term.signal).toBe("SIGTERM");
    const kill = await sh("kill -KILL $$");
    expect(kill.signal).toBe("SIGKILL");
  });
});

describe("environment", () => {
  const SECRET_NAME = "BORGCTL_SPAWN_TEST_SECRET";

  beforeAll(() => {
    process.env[SECRET_NAME] = "must-not-leak";
  });
  afterAll(() => {
    delete process.env[SECRET_NAME];
  });

  const printVars = (...names: string[]) =>
    names
      .map((n) => `if [ -n "\${${n}+set}" ]; then echo "${n}=$${n}"; else echo "${n} unset"; fi`)
      .join("; ");

  test("only allow-listed variables are inherited; explicit env passes and wins", async () => {
    expect(DEFAULT_INHERITED_ENV).toContain("PATH");
    const out: string[] = [];
    await sh(printVars(SECRET_NAME, "EXPLICIT", "PATH", "HOME"), {
      env: { EXPLICIT: "yes", HOME: "/explicit/home" },
      onStdoutLine: (l) => out.push(l),
    });
    expect(out).toEqual([
      `${SECRET_NAME} unset`,
      "EXPLICIT=yes",
      `PATH=${process.env.PATH}`,
      "HOME=/explicit/home",
    ]);
  });

  test("inheritEnv replaces the default list", async () => {
    const out: string[] = [];
    // No PATH in the child: the program is still found via the fallback /usr/bin:/bin.
    await sh(printVars(SECRET_NAME, "HOME"), {
      inheritEnv: [SECRET_NAME],
      onStdoutLine: (l) => out.push(l),
    });
    expect(out).toEqual([`${SECRET_NAME}=must-not-leak`, "HOME unset"]);
  });
});

describe("stdin and cwd", () => {
  test("delivers stdin as a string and as bytes, then closes it", async () => {
    const lines: string[] = [];
    const r1 = await runProcess({
      argv: ["cat"],
      stdin: "hello\nwörld\n",
      onStdoutLine: (l) => lines.push(l),
    });
    expect(r1.exitCode).toBe(0);
    expect(lines).toEqual(["hello", "wörld"]);

    const r2 = await runProcess({
      argv: ["wc", "-c"],
      stdin: new Uint8Array(200_000).fill(120),
      captureStdout: true,
    });
    expect(r2.stdout.trim()).toBe("200000");
  });

  test("without stdin the child reads EOF immediately", async () => {
    const result = await runProcess({ argv: ["cat"], captureStdout: true });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("");
  });

  test("runs in cwd", async () => {
    const result = await runProcess({ argv: ["pwd"], cwd: dir, captureStdout: true });
    expect(result.stdout.trim()).toBe(dir);
  });
});

describe("stdout capture", () => {
  test("captures stdout text when asked, and nothing otherwise", async () => {
    expect((await sh("printf 'héllo\\nworld'", { captureStdout: true })).stdout).toBe(
      "héllo\nworld",
    );
    const plain = await sh("echo hi");
    expect(plain.stdout).toBe("");
    expect(plain.stdoutTruncated).toBe(false);
  });

  test("beyond the cap: stops collecting, flags truncation, and the child still finishes", async () => {
    const result = await sh("head -c 1048576 /dev/zero | tr '\\0' a; echo finished >&2", {
      captureStdout: { maxBytes: 1024 },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout).toBe("a".repeat(1024));
    expect(result.stderrTail).toEqual(["finished"]);
  });

  test("a character cut by the cap is dropped, not turned into garbage", async () => {
    const result = await sh("printf 'aé'", { captureStdout: { maxBytes: 2 } });
    expect(result.stdout).toBe("a");
    expect(result.stdoutTruncated).toBe(true);
  });

  test("output exactly at the cap is not truncated", async () => {
    const result = await sh("printf abcd", { captureStdout: { maxBytes: 4 } });
    expect(result.stdout).toBe("abcd");
    expect(result.stdoutTruncated).toBe(false);
  });
});

describe("stderr tail", () => {
  test("keeps only the last N lines", async () => {
    const result = await sh("seq 1 100 >&2", { stderrTailLines: 5 });
    expect(result.stderrTail).toEqual(["96", "97", "98", "99", "100"]);
  });

  test("keeps 50 lines by default and cuts long lines at 4096 chars", async () => {
    const many = await sh("seq 1 60 >&2");
    expect(many.stderrTail.length).toBe(50);
    expect(many.stderrTail[0]).toBe("11");
    const long = await sh("head -c 10000 /dev/zero | tr '\\0' x >&2");
    expect(long.stderrTail).toEqual(["x".repeat(4096)]);
  });
});

describe("cancellation", () => {
  test("a child that exits cleanly on SIGINT gets only SIGINT", async () => {
    const { proc } = await spawnReady(
      "trap 'kill $child; exit 0' INT; sleep 30 & child=$!; echo ready; wait",
    );
    proc.cancel();
    const result = await proc.done;
    expect(result.escalation).toEqual(["SIGINT"]);
    expect(result.exitCode).toBe(0);
    expect(result.aborted).toBe(true);
  });

  test("a child that ignores SIGINT gets SIGTERM after the interrupt grace", async () => {
    const { proc } = await spawnReady("trap '' INT; sleep 30 & echo ready; wait");
    proc.cancel();
    const result = await proc.done;
    expect(result.escalation).toEqual(["SIGINT", "SIGTERM"]);
    expect(result.signal).toBe("SIGTERM");
    expect(result.exitCode).toBeNull();
  });

  test("a child that ignores SIGINT and SIGTERM is killed with SIGKILL", async () => {
    const { proc } = await spawnReady("trap '' INT TERM; sleep 30 & echo ready; wait");
    proc.cancel();
    const result = await proc.done;
    expect(result.escalation).toEqual(["SIGINT", "SIGTERM", "SIGKILL"]);
    expect(result.signal).toBe("SIGKILL");
    expect(result.exitCode).toBeNull();
    expect(result.durationMs).toBeLessThan(10_000);
  });

  test("aborting the AbortSignal cancels like cancel()", async () => {
    const controller = new AbortController();
    const { proc } = await spawnReady("echo ready; exec sleep 30", { signal: controller.signal });
    controller.abort();
    const result = await proc.done;
    expect(result.aborted).toBe(true);
    expect(result.escalation).toEqual(["SIGINT"]);
    expect(result.signal).toBe("SIGINT");
    expect(result.exitCode).toBeNull();
  });

  test("the whole process group stops: a grandchild is gone after cancel", async () => {
    const { proc, stdout } = await spawnReady("sleep 30 & echo $!; echo ready; wait");
    const grandchild = Number(stdout[0]);
    expect(Number.isInteger(grandchild) && grandchild > 0).toBe(true);
    expect(await isGone(grandchild)).toBe(false);
    proc.cancel();
    await proc.done;
    expect(await waitUntilGone(grandchild)).toBe(true);
  });

  test("processGroup: false signals only the child, a grandchild survives", async () => {
    const { proc, stdout } = await spawnReady(
      "trap '' INT; sleep 30 >/dev/null 2>&1 & echo $!; echo ready; wait",
      { processGroup: false },
    );
    const grandchild = Number(stdout[0]);
    try {
      proc.cancel();
      const result = await proc.done;
      expect(result.signal).toBe("SIGTERM");
      expect(await isGone(grandchild)).toBe(false);
    } finally {
      process.kill(grandchild, "SIGKILL");
    }
  });

  test("cancel after the process ended changes nothing", async () => {
    const proc = spawnProcess({ argv: ["true"] });
    const result = await proc.done;
    proc.cancel();
    expect(result.aborted).toBe(false);
    expect(result.escalation).toEqual([]);
  });

  test("a signal aborted before spawning never starts the process", async () => {
    const marker = join(dir, "started");
    const controller = new AbortController();
    controller.abort();
    const proc = spawnProcess({ argv: ["touch", marker], signal: controller.signal });
    expect(proc.pid).toBe(-1);
    const result = await proc.done;
    expect(result).toMatchObject({ aborted: true, exitCode: null, signal: null, escalation: [] });
    await Bun.sleep(100);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("start errors and validation", () => {
  test("a program not on PATH throws ProcessStartError naming it", () => {
    expect(() => spawnProcess({ argv: ["borgctl-no-such-program"] })).toThrow(
      new ProcessStartError("borgctl-no-such-program", "not found on PATH"),
    );
  });

  test("a missing path and a non-executable file throw ProcessStartError", () => {
    const script = join(dir, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    expect(() => spawnProcess({ argv: [script] })).toThrow(/not executable/);
    expect(() => spawnProcess({ argv: [join(dir, "missing")] })).toThrow(ProcessStartError);
    expect(() => spawnProcess({ argv: ["pwd"], cwd: join(dir, "missing") })).toThrow(
      ProcessStartError,
    );
  });

  test("an executable given by absolute path runs", async () => {
    const script = join(dir, "ok.sh");
    writeFileSync(script, '#!/bin/sh\necho "$0 $1"\n');
    chmodSync(script, 0o755);
    const result = await runProcess({ argv: [script, "arg"], captureStdout: true });
    expect(result.stdout).toBe(`${script} arg\n`);
  });

  test("runProcess rejects with ProcessStartError", async () => {
    await expect(runProcess({ argv: ["borgctl-no-such-program"] })).rejects.toBeInstanceOf(
      ProcessStartError,
    );
  });

  test("argv must be a non-empty array of strings without NUL", () => {
    expect(() => spawnProcess({ argv: [] })).toThrow(TypeError);
    expect(() => spawnProcess({ argv: ["echo", "a\0b"] })).toThrow(TypeError);
    expect(() => spawnProcess({ argv: ["echo", 42 as unknown as string] })).toThrow(TypeError);
  });
});

describe("onStdoutChunk: stdout as raw bytes, read only as fast as they are consumed", () => {
  test("every byte arrives, in order, binary included", async () => {
    const chunks: Uint8Array[] = [];
    const result = await runProcess({
      argv: ["sh", "-c", "printf 'a\\000b\\nc'; head -c 300000 /dev/zero; printf 'end'"],
      onStdoutChunk: (chunk) => {
        chunks.push(chunk);
      },
    });
    expect(result.exitCode).toBe(0);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(5 + 300_000 + 3);
    expect([...all.subarray(0, 5)]).toEqual([97, 0, 98, 10, 99]);
    expect(all.subarray(-3).toString()).toBe("end");
  });

  test("a pending consumer holds the child at a full pipe until it settles", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const stderr: string[] = [];
    const proc = spawnProcess({
      // 4 MiB is far more than a pipe holds: the writer can't finish while nobody reads.
      argv: ["sh", "-c", "head -c 4194304 /dev/zero; echo written >&2"],
      onStdoutChunk: async () => {
        calls++;
        if (calls === 1) await held;
      },
      onStderrLine: (line) => stderr.push(line),
    });
    await Bun.sleep(500);
    expect(calls).toBe(1);
    expect(stderr).toEqual([]);
    release();
    const result = await proc.done;
    expect(result.exitCode).toBe(0);
    expect(stderr).toEqual(["written"]);
  });

  test("a consumer that rejects cancels the child, and done rejects with its error", async () => {
    const proc = spawnProcess({
      argv: ["sh", "-c", "while :; do head -c 65536 /dev/zero; done"],
      grace: QUICK_GRACE,
      onStdoutChunk: async () => {
        throw new Error("nobody wants the rest");
      },
    });
    await expect(proc.done).rejects.toThrow("nobody wants the rest");
  });

  test("is not combined with line or captured stdout", () => {
    expect(() =>
      spawnProcess({ argv: ["true"], onStdoutChunk: () => {}, onStdoutLine: () => {} }),
    ).toThrow(TypeError);
    expect(() =>
      spawnProcess({ argv: ["true"], onStdoutChunk: () => {}, captureStdout: true }),
    ).toThrow(TypeError);
  });
});
