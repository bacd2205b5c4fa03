import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildListCommand } from "../../../src/borg/commands/list.ts";
import { buildVersionCommand } from "../../../src/borg/commands/version.ts";
import { buildBorgEnv } from "../../../src/borg/env.ts";
import { featuresFor } from "../../../src/borg/features.ts";
import type { BorgLogEvent } from "../../../src/borg/output.ts";
import { detectBorg, runBorg } from "../../../src/borg/run.ts";
import { REDACTED } from "../../../src/shared/log.ts";

// Real borg 1.2.4 from PATH; each test runs it once or twice (~0.3 s each).
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "borgctl-run-"));
  env = buildBorgEnv({ baseDir: join(dir, "base") });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("detectBorg", () => {
  test("finds the real borg by name and by path", async () => {
    const byName = await detectBorg("borg");
    expect(byName?.version).toMatchObject({ major: 1, minor: 2, patch: 4, raw: "1.2.4" });
    expect(byName?.path).toBe("borg");
    expect((await detectBorg("/usr/bin/borg"))?.version.raw).toBe("1.2.4");
  });

  test("undefined for what is not borg or does not run", async () => {
    expect(await detectBorg(join(dir, "no-such-borg"))).toBeUndefined();
    expect(await detectBorg("true")).toBeUndefined(); // exit 0, prints nothing
    expect(await detectBorg("false")).toBeUndefined();
    expect(await detectBorg("python3")).toBeUndefined(); // "Python 3.11.2"
  });
});

describe("runBorg", () => {
  const borg1 = () => {
    const version = { major: 1, minor: 2, patch: 4, raw: "1.2.4" } as const;
    return featuresFor(version);
  };

  test("ok: --version", async () => {
    const result = await runBorg({ borgPath: "borg", command: buildVersionCommand(), env });
    expect(result).toMatchObject({ outcome: "ok", exitCode: 0, signal: null });
    expect(result.errorMessage).toBeUndefined();
    expect(result.json).toBeUndefined();
  });

  test("a program that can't start is an error result, not a throw", async () => {
    const result = await runBorg({
      borgPath: join(dir, "missing-borg"),
      command: buildVersionCommand(),
      env,
    });
    expect(result.outcome).toBe("error");
    expect(result.exitCode).toBeNull();
    expect(result.errorMessage).toContain("cannot start");
  });

  test("error: the last ERROR log_message is the message; events arrive parsed", async () => {
    const events: BorgLogEvent[] = [];
    const repo = join(dir, "no-such-repo");
    const result = await runBorg({
      borgPath: "borg",
      command: buildListCommand(borg1(), { repo }),
      env,
      captureJson: true,
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({ outcome: "error", exitCode: 2 });
    expect(result.errorMessage).toBe(`Repository ${repo} does not exist.`);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "log_message", msgid: "Repository.DoesNotExist" }),
    );
    expect(result.json).toBeUndefined();
    // Said, not swallowed: after an error the caller ignores it, after a success it can't.
    expect(result.jsonError).toBe("stdout is empty");
    expect(result.stderrTail.join("\n")).toContain("DoesNotExist");
  });

  describe("--json output that is not one JSON document", () => {
    // A real borg prints valid JSON on success; this path is only reachable with a
    // program that exits 0 with something else on stdout, here sh.
    const shell = (script: string) =>
      runBorg({ borgPath: "/bin/sh", command: { argv: ["-c", script] }, env, captureJson: true });

    test("is reported as jsonError, with the parser's reason", async () => {
      const result = await shell("echo 'Archive fingerprint: 1234'");
      expect(result.outcome).toBe("ok");
      expect(result.json).toBeUndefined();
      expect(result.jsonError).toStartWith("stdout is not JSON (");
    });

    test("empty stdout on success is reported too", async () => {
      const result = await shell("exit 0");
      expect(result).toMatchObject({ outcome: "ok", jsonError: "stdout is empty" });
    });

    test("valid JSON is parsed, with no jsonError", async () => {
      const result = await shell(`echo '{"archives": []}'`);
      expect(result.json).toEqual({ archives: [] });
      expect(result.jsonError).toBeUndefined();
    });

    test("without captureJson nothing is read or reported", async () => {
      const result = await runBorg({
        borgPath: "/bin/sh",
        command: { argv: ["-c", "echo garbage"] },
        env,
      });
      expect(result.json).toBeUndefined();
      expect(result.jsonError).toBeUndefined();
    });
  });

  test("the passphrase is cut out of every line, should borg ever print it", async () => {
    const passphrase = "correct-horse-battery";
    const repo = join(dir, passphrase);
    const events: BorgLogEvent[] = [];
    const result = await runBorg({
      borgPath: "borg",
      command: buildListCommand(borg1(), { repo }),
      env: buildBorgEnv({ baseDir: join(dir, "base"), passphrase }),
      onEvent: (e) => events.push(e),
    });
    expect(result.outcome).toBe("error");
    expect(result.errorMessage).toBe(`Repository ${join(dir, REDACTED)} does not exist.`);
    expect(JSON.stringify(events)).not.toContain(passphrase);
    expect(result.stderrTail.join("\n")).not.toContain(passphrase);
  });

  test("an already aborted signal starts nothing and is canceled", async () => {
    const result = await runBorg({
      borgPath: "borg",
      command: buildVersionCommand(),
      env,
      signal: AbortSignal.abort(),
    });
    expect(result.outcome).toBe("canceled");
    expect(result.errorMessage).toBe("canceled");
  });

  test("an onEvent that throws makes runBorg reject", async () => {
    const run = runBorg({
      borgPath: "borg",
      command: buildListCommand(borg1(), { repo: join(dir, "nope") }),
      env,
      onEvent: () => {
        throw new Error("consumer bug");
      },
    });
    await expect(run).rejects.toThrow("consumer bug");
  });
});
