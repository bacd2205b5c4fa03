import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import {
  BorgCreateResult,
  BorgInfoResult,
  BorgListResult,
  type BorgLogEvent,
  borgTimestampToIso,
  describeBorgEvent,
  isErrorLogMessage,
  leadWithException,
  parseLogJsonLine,
  readJsonResult,
} from "../../../src/borg/output.ts";

const FIXTURES = `${import.meta.dir}/../../fixtures/borg`;
const VERSIONS = ["1.2.4", "2.0.0b5"] as const;

async function fixture(version: string, name: string): Promise<string> {
  return Bun.file(`${FIXTURES}/${version}/${name}`).text();
}

async function events(version: string, step: string): Promise<BorgLogEvent[]> {
  const text = await fixture(version, `${step}.stderr`);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map(parseLogJsonLine);
}

async function json(version: string, step: string): Promise<unknown> {
  return JSON.parse(await fixture(version, `${step}.stdout`));
}

function ofType<T extends BorgLogEvent["type"]>(list: BorgLogEvent[], type: T) {
  return list.filter((e): e is Extract<BorgLogEvent, { type: T }> => e.type === type);
}

describe("parseLogJsonLine on captured --log-json output", () => {
  for (const version of VERSIONS) {
    test(`${version}: every stderr line of every step is a known event`, async () => {
      const steps = readdirSync(`${FIXTURES}/${version}`).filter((f) => f.endsWith(".stderr"));
      expect(steps.length).toBeGreaterThan(5);
      let lines = 0;
      for (const file of steps) {
        for (const event of await events(version, file.replace(/\.stderr$/, ""))) {
          lines++;
          expect({ file, type: event.type }).not.toEqual({ file, type: "text" });
        }
      }
      expect(lines).toBeGreaterThan(20);
    });
  }

  test("1.2.4 create: archive_progress with sizes and nfiles, then a bare finished line", async () => {
    const progress = ofType(await events("1.2.4", "create"), "archive_progress");
    const running = progress.filter((e) => !e.finished);
    expect(running.some((e) => (e.nfiles ?? 0) > 0)).toBe(true);
    for (const e of running) {
      expect(e.original_size).toBeNumber();
      expect(e.compressed_size).toBeNumber();
      expect(e.deduplicated_size).toBeNumber();
      expect(e.path).toStartWith("tmp/fixture/src");
    }
    const last = progress.at(-1);
    expect(last?.finished).toBe(true);
    expect(last?.nfiles).toBeUndefined();
  });

  test("2.0.0b5 create: archive_progress has no compressed_size", async () => {
    const progress = ofType(await events("2.0.0b5", "create"), "archive_progress");
    expect(progress.length).toBeGreaterThan(1);
    for (const e of progress) expect(e.compressed_size).toBeUndefined();
    expect(progress.some((e) => typeof e.deduplicated_size === "number")).toBe(true);
  });

  test("progress_message phases of the cache", async () => {
    const phases = ofType(await events("1.2.4", "create"), "progress_message");
    expect(phases[0]).toMatchObject({
      msgid: "cache.begin_transaction",
      message: "Initializing cache transaction: Reading config",
      finished: false,
    });
    expect(phases.some((e) => e.finished && e.message === undefined)).toBe(true);
  });

  test("check and compact: progress_percent with current and total", async () => {
    for (const step of ["check", "compact"]) {
      const percent = ofType(await events("1.2.4", step), "progress_percent");
      const first = percent[0];
      expect(first?.current).toBeNumber();
      expect(first?.total).toBeNumber();
      expect(first?.message).toBeString();
    }
  });

  test("create --list: file_status lines", async () => {
    const files = ofType(await events("1.2.4", "create-list"), "file_status");
    expect(files).toContainEqual({
      type: "file_status",
      status: "A",
      path: "/tmp/fixture/src/sub/f1.txt",
    });
    expect(files.map((f) => f.status)).toContain("U");
    expect(describeBorgEvent(files[0] as BorgLogEvent)).toBe("U /tmp/fixture/src/sub/more.bin");
  });

  test("errors: log_message at ERROR with a msgid", async () => {
    for (const version of VERSIONS) {
      const [wrong] = await events(version, "wrong-passphrase");
      expect(wrong).toMatchObject({
        type: "log_message",
        levelname: "ERROR",
        msgid: "PassphraseWrong",
      });
      expect(wrong && isErrorLogMessage(wrong)).toBe(true);
    }
    const [lock] = await events("1.2.4", "lock-timeout");
    expect(lock).toMatchObject({ levelname: "ERROR", msgid: "LockTimeout" });
    const [missing] = await events("1.2.4", "missing-repo");
    expect(missing).toMatchObject({ levelname: "ERROR", msgid: "Repository.DoesNotExist" });
  });

  test("a missing source is a WARNING log_message, not an error", async () => {
    const logs = ofType(await events("1.2.4", "create-missing-source"), "log_message");
    expect(logs).toHaveLength(1);
    expect(logs[0]?.levelname).toBe("WARNING");
    expect(logs[0]?.message).toContain("No such file or directory");
    expect(logs.some(isErrorLogMessage)).toBe(false);
  });

  test("SIGINT: Got Ctrl-C at ERROR", async () => {
    const logs = ofType(await events("1.2.4", "create-sigint"), "log_message");
    expect(logs.at(-1)).toMatchObject({ levelname: "ERROR", message: "Got Ctrl-C / SIGINT." });
  });

  test("check --repair without confirmation: question lines", async () => {
    const list = await events("1.2.4", "check-repair-refused");
    expect(list.map((e) => e.type)).toEqual([
      "question_prompt",
      "question_env_answer",
      "question_accepted_false",
    ]);
    expect(list[1]).toMatchObject({ env_var: "BORG_CHECK_I_KNOW_WHAT_I_AM_DOING" });
    expect(describeBorgEvent(list[2] as BorgLogEvent)).toBe("Aborting.");
  });

  test("prune --list: one borg.output.list line per archive", async () => {
    const dry = ofType(await events("1.2.4", "prune-dry-run"), "log_message");
    expect(dry.every((e) => e.name === "borg.output.list" && e.levelname === "INFO")).toBe(true);
    expect(dry.filter((e) => e.message.startsWith("Would prune:"))).toHaveLength(2);
    const real = ofType(await events("2.0.0b5", "prune"), "log_message");
    expect(real.some((e) => e.message.startsWith("Pruning archive (1/1):"))).toBe(true);
  });

  test("no fixture holds the passphrase", async () => {
    for (const version of VERSIONS) {
      for (const file of readdirSync(`${FIXTURES}/${version}`)) {
        expect(await fixture(version, file)).not.toContain("fixture-passphrase");
      }
    }
  });
});

describe("parseLogJsonLine on anything else", () => {
  test.each([
    "Connection closed by remote host",
    "Remote: Permission denied (publickey).",
    "",
    "{not json",
    "null",
    "[1,2]",
    '"a string"',
    "42",
    '{"no": "type"}',
    '{"type": "something_new", "message": "x"}',
    '{"type": "log_message", "message": "no levelname"}',
    '{"type": "file_status", "status": "A"}',
  ])("%j is text", (line) => {
    expect(parseLogJsonLine(line)).toEqual({ type: "text", message: line });
  });

  test("strips a trailing \\r", () => {
    expect(parseLogJsonLine("ssh: connect to host x port 22: Connection refused\r")).toEqual({
      type: "text",
      message: "ssh: connect to host x port 22: Connection refused",
    });
    expect(parseLogJsonLine('{"type": "file_status", "status": "A", "path": "/a"}\r').type).toBe(
      "file_status",
    );
  });

  test("keeps unknown keys of known events", () => {
    const event = parseLogJsonLine(
      '{"type": "archive_progress", "finished": false, "nfiles": 3, "new_key": 1}',
    );
    expect(event).toEqual({
      type: "archive_progress",
      finished: false,
      nfiles: 3,
      new_key: 1,
    } as never);
  });

  test("describeBorgEvent: progress is not a log line, messages are", () => {
    expect(describeBorgEvent({ type: "archive_progress", finished: false })).toBeUndefined();
    expect(describeBorgEvent({ type: "progress_percent", message: "50%" })).toBeUndefined();
    expect(describeBorgEvent({ type: "text", message: "hello" })).toBe("hello");
    expect(
      describeBorgEvent(
        parseLogJsonLine('{"type":"log_message","levelname":"INFO","message":"\\nhi\\n"}'),
      ),
    ).toBe("hi");
  });
});

describe("--json results", () => {
  test("1.2.4 create", async () => {
    const result = BorgCreateResult.parse(await json("1.2.4", "create"));
    expect(result.archive.name).toBe("first");
    expect(result.archive.stats.nfiles).toBe(7);
    expect(result.archive.stats.compressed_size).toBeNumber();
    expect(result.archive.command_line).toBeArray(); // unknown keys are kept
    expect(result.repository.location).toBe("/tmp/fixture/repo");
    expect(result.encryption?.mode).toBe("repokey-blake2");
    expect(BorgCreateResult.parse(await json("1.2.4", "create-missing-source")).archive.name).toBe(
      "third",
    );
  });

  test("2.0.0b5 create: no compressed size, command_line a string", async () => {
    const result = BorgCreateResult.parse(await json("2.0.0b5", "create"));
    expect(result.archive.stats.compressed_size).toBeUndefined();
    expect(result.archive.stats.deduplicated_size).toBeNumber();
    expect(result.archive.command_line).toBeString();
  });

  test("list with hostname, username, comment, end", async () => {
    for (const version of VERSIONS) {
      const result = BorgListResult.parse(await json(version, "list"));
      expect(result.archives.length).toBeGreaterThan(0);
      for (const archive of result.archives) {
        expect(archive.hostname).toBeString();
        expect(archive.username).toBeString();
        expect(archive.comment).toBe("");
        expect(archive.end).toBeString();
        expect(archive.id).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  test("list --consider-checkpoints shows the interrupted create", async () => {
    const result = BorgListResult.parse(await json("1.2.4", "list-checkpoints"));
    expect(result.archives.map((a) => a.name)).toEqual([
      "first",
      "second",
      "third",
      "big.checkpoint",
    ]);
  });

  test("info", async () => {
    const v1 = BorgInfoResult.parse(await json("1.2.4", "info"));
    expect(v1.cache?.stats?.unique_csize).toBeNumber();
    const v2 = BorgInfoResult.parse(await json("2.0.0b5", "info"));
    expect(v2.cache?.stats?.unique_size).toBeNumber();
    expect(v2.cache?.stats?.unique_csize).toBeUndefined();
    expect(v2.repository.last_modified).toEndWith("+00:00");
  });

  test("schemas reject what is not the result", () => {
    expect(BorgCreateResult.safeParse({ archive: { name: "x" } }).success).toBe(false);
    expect(BorgListResult.safeParse({ archives: "no" }).success).toBe(false);
  });
});

describe("readJsonResult", () => {
  test("captured --json output reads as its schema", async () => {
    for (const version of VERSIONS) {
      const read = readJsonResult(BorgCreateResult, { json: await json(version, "create") });
      expect(read.ok).toBe(true);
      if (read.ok) expect(read.data.archive.stats.nfiles).toBeGreaterThan(0);
    }
  });

  test("missing, unparsable and wrongly shaped output each say why", async () => {
    expect(readJsonResult(BorgListResult, { jsonError: "stdout is not JSON (x)" })).toEqual({
      ok: false,
      error: "stdout is not JSON (x)",
    });
    expect(readJsonResult(BorgListResult, {})).toEqual({ ok: false, error: "stdout is empty" });
    // Another command's output: create's JSON has no archive list.
    const wrong = readJsonResult(BorgListResult, { json: await json("1.2.4", "create") });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toStartWith("unexpected JSON: archives: ");
    const stats = readJsonResult(BorgCreateResult, {
      json: { archive: { stats: {} }, repository: { id: "r", location: "/r" } },
    });
    expect(stats.ok).toBe(false);
    if (!stats.ok) {
      expect(stats.error).toStartWith("unexpected JSON: archive.name: ");
      expect(stats.error).toEndWith(" (+2 more)");
    }
  });
});

describe("borgTimestampToIso", () => {
  test.each([
    ["2026-11-22T06:21:38.000000", "2026-11-22T06:21:38.000Z"],
    ["2026-11-22T06:26:15.315962+00:00", "2026-11-22T06:26:15.315Z"],
    ["2026-11-22T08:26:15+02:00", "2026-11-22T06:26:15.000Z"],
    ["not a date", undefined],
  ])("%s → %p", (input, expected) => {
    expect(borgTimestampToIso(input)).toBe(expected);
  });
});

describe("leadWithException", () => {
  test("a traceback's last line (what happened) comes first", () => {
    const traceback = [
      "Local Exception",
      "Traceback (most recent call last):",
      '  File "borg/archiver.py", line 5213, in main',
      "    exit_code = archiver.run(args)",
      "OSError: [Errno 28] No space left on device",
      "",
      "Platform: Linux host 6.1.0 #1 SMP x86_64",
      "Borg: 1.2.4  Python: CPython 3.11.2",
      "SSH_ORIGINAL_COMMAND: None",
    ].join("\n");
    expect(leadWithException(traceback).split("\n")[0]).toBe(
      "OSError: [Errno 28] No space left on device",
    );
    expect(leadWithException(traceback)).toContain(traceback);
    expect(leadWithException("Repository does not exist.")).toBe("Repository does not exist.");
  });
});
