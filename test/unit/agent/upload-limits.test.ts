import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { z } from "zod";
import { OutboxItem } from "../../../src/agent/outbox.ts";
import {
  codePointLength,
  fitHeartbeat,
  fitLine,
  fitOutboxItems,
  fitProgress,
  fitText,
  fitWarnings,
  truncationMarker,
} from "../../../src/agent/upload-limits.ts";
import {
  CompleteRequest,
  FailRequest,
  HeartbeatRequest,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_WARNING_CHARS,
  ProgressRequest,
} from "../../../src/shared/protocol/agent.ts";

const MARKER = /…\[truncated ([\d,]+) characters\]…/;

/** Splits a fitted text at its marker and checks that head + cut + tail is the original. */
function expectHeadAndTail(original: string, fitted: string) {
  const match = MARKER.exec(fitted);
  expect(match).not.toBeNull();
  const head = fitted.slice(0, match?.index);
  const tail = fitted.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
  const removed = Number(match?.[1]?.replaceAll(",", ""));
  expect(original.startsWith(head)).toBe(true);
  expect(original.endsWith(tail)).toBe(true);
  expect(codePointLength(head) + removed + codePointLength(tail)).toBe(codePointLength(original));
  return { head, tail, removed };
}

/** A borg 1.2 traceback as --log-json carries it: one message, what went wrong at the end. */
function enospcTraceback(length: number): string {
  const head = "Local Exception\nTraceback (most recent call last):\n";
  const last = "OSError: [Errno 28] No space left on device";
  const frame =
    '  File "/usr/lib/python3/dist-packages/borg/archiver.py", line 5089, in main\n    exit_code = archiver.run(args)\n';
  let body = "";
  while (head.length + body.length + frame.length + last.length <= length) body += frame;
  return `${head}${body}${"x".repeat(length - head.length - body.length - last.length)}${last}`;
}

describe("fitText", () => {
  test("a text at the cap is untouched; one over it is cut to exactly the cap", () => {
    const atCap = "a".repeat(200);
    expect(fitText(atCap, 200)).toBe(atCap);
    const over = `${"h".repeat(100)}${"t".repeat(101)}`;
    const fitted = fitText(over, 200);
    expect(fitted.length).toBe(200);
    const { head, tail, removed } = expectHeadAndTail(over, fitted);
    expect(fitted).toBe(`${head}${truncationMarker(removed)}${tail}`);
    expect(head.length).toBeGreaterThan(50);
    expect(tail.length).toBeGreaterThan(50);
  });

  test("the 8,569-character ENOSPC traceback fits a fail upload, keeping the error at its end", () => {
    const traceback = enospcTraceback(8569);
    expect(traceback.length).toBe(8569);
    expect(FailRequest.safeParse({ error_message: traceback }).success).toBe(false);
    const fitted = fitText(traceback, MAX_ERROR_MESSAGE_CHARS);
    expect(fitted.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(FailRequest.safeParse({ error_message: fitted }).success).toBe(true);
    const { head, tail, removed } = expectHeadAndTail(traceback, fitted);
    expect(head.startsWith("Local Exception\nTraceback")).toBe(true);
    expect(tail.endsWith("OSError: [Errno 28] No space left on device")).toBe(true);
    expect(fitted).toContain(`…[truncated ${removed.toLocaleString("en-US")} characters]…`);
  });

  test("counts code points as zod does, and never splits a surrogate pair", () => {
    const emoji = "😀".repeat(200); // 400 UTF-16 units, 200 code points
    expect(fitText(emoji, 200)).toBe(emoji);
    const over = `😀${emoji}`;
    const fitted = fitText(over, 200);
    expect(codePointLength(fitted)).toBe(200);
    expect(fitted.isWellFormed()).toBe(true);
    expectHeadAndTail(over, fitted);
    // Odd head/tail sizes: each side cut at a code point boundary.
    for (const max of [101, 102, 103]) expect(fitText(over, max).isWellFormed()).toBe(true);
  });

  test("the marker's count growing a digit still lands exactly on the cap", () => {
    // Lengths around a cut of 999 → 1,000 characters.
    for (let length = 1100; length < 1160; length++) {
      const text = "y".repeat(length);
      expect(fitText(text, 150).length).toBe(150);
    }
  });

  test("property: at most the cap in code points, the schema accepts it, head and tail kept", () => {
    fc.assert(
      fc.property(
        // Astral characters and lone surrogates too: zod counts each as one.
        fc
          .string({
            unit: fc.oneof(
              fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
              fc.constantFrom("😀", "\ud800", "\udc00", "…"),
            ),
            maxLength: 600,
            // NUL is shown as \0, which lengthens the text: covered by its own test below.
          })
          .filter((t) => !t.includes("\0")),
        fc.integer({ min: 40, max: 400 }),
        (text, max) => {
          const fitted = fitText(text, max);
          if (codePointLength(text) <= max) return fitted === text;
          expect(codePointLength(fitted)).toBe(max);
          expect(z.string().max(max).safeParse(fitted).success).toBe(true);
          expectHeadAndTail(text, fitted);
          return true;
        },
      ),
    );
  });
});

describe("fitWarnings", () => {
  test("150 warnings: the first 99 and one that says how many more", () => {
    const warnings = Array.from({ length: 150 }, (_, i) => `warning ${i}`);
    const fitted = fitWarnings(warnings);
    expect(fitted).toHaveLength(100);
    expect(fitted.slice(0, 99)).toEqual(warnings.slice(0, 99));
    expect(fitted[99]).toBe("… and 51 more warnings");
  });

  test("exactly 100 stay as they are; 101 become 99 and '… and 2 more warnings'", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => `w${i}`);
    expect(fitWarnings(hundred)).toEqual(hundred);
    const fitted = fitWarnings([...hundred, "w100"]);
    expect(fitted).toHaveLength(100);
    expect(fitted[99]).toBe("… and 2 more warnings");
  });

  test("a warning that repeats a 3,800-character missing path is cut to 4,096", () => {
    const path = `/srv/${"d".repeat(200)}/`.repeat(19).slice(0, 3800);
    const warning = `${path}: [Errno 2] No such file or directory: '${path}'`;
    const [fitted] = fitWarnings([warning]);
    expect(fitted?.length).toBe(MAX_WARNING_CHARS);
    expect(fitted?.startsWith(path.slice(0, 1000))).toBe(true);
    expect(fitted?.endsWith(`${path.slice(-1000)}'`)).toBe(true);
  });
});

describe("fitOutboxItems", () => {
  test("a complete with a long warning, too many warnings and a long archive name is accepted", () => {
    const item: OutboxItem = {
      kind: "complete",
      job_id: 1,
      body: {
        result: {
          return_code: 1,
          archive_name: "n".repeat(600),
          warnings: ["w".repeat(7700), ...Array.from({ length: 120 }, (_, i) => `w${i}`)],
        },
      },
    };
    expect(OutboxItem.safeParse(item).success).toBe(false);
    const [fitted, ...rest] = fitOutboxItems(item);
    expect(rest).toEqual([]);
    expect(OutboxItem.safeParse(fitted).success).toBe(true);
    const result = fitted?.kind === "complete" ? fitted.body.result : undefined;
    expect(result?.archive_name?.length).toBe(512);
    expect(result?.warnings?.[0]?.length).toBe(MAX_WARNING_CHARS);
    expect(result?.warnings?.[99]).toBe("… and 22 more warnings");
    expect(CompleteRequest.safeParse(fitted?.body).success).toBe(true);
  });

  test("a fail with a long message is cut; a short one is left alone", () => {
    const long: OutboxItem = {
      kind: "fail",
      job_id: 2,
      body: { error_message: enospcTraceback(9000), return_code: 2 },
    };
    const [fitted] = fitOutboxItems(long);
    expect(OutboxItem.safeParse(fitted).success).toBe(true);
    expect(fitted?.kind === "fail" && fitted.body.return_code).toBe(2);
    const short: OutboxItem = { kind: "fail", job_id: 2, body: { error_message: "nope" } };
    expect(fitOutboxItems(short)).toEqual([short]);
  });

  test("a log batch over one upload's 500 entries becomes several, in order; long lines cut", () => {
    const entries = Array.from({ length: 1001 }, (_, i) => ({
      sequence: i,
      stream: "stderr" as const,
      message: i === 3 ? "m".repeat(20_000) : `line ${i}`,
      created_at: new Date(0).toISOString(),
    }));
    const batches = fitOutboxItems({ kind: "logs", job_id: 3, body: { entries } });
    expect(batches.map((b) => (b.kind === "logs" ? b.body.entries.length : 0))).toEqual([
      500, 500, 1,
    ]);
    for (const batch of batches) expect(OutboxItem.safeParse(batch).success).toBe(true);
    const sequences = batches.flatMap((b) => (b.kind === "logs" ? b.body.entries : []));
    expect(sequences.map((e) => e.sequence)).toEqual(entries.map((e) => e.sequence));
    expect(sequences[3]?.message.length).toBe(16 * 1024);
  });

  test("an archive list over 100,000 keeps the newest and says so", () => {
    const archives = Array.from({ length: 100_002 }, (_, i) => ({ id: `${i}`, name: `a${i}` }));
    const [fitted] = fitOutboxItems({
      kind: "complete",
      job_id: 4,
      body: { result: { return_code: 0, archives } },
    });
    const result = fitted?.kind === "complete" ? fitted.body.result : undefined;
    expect(result?.archives?.length).toBe(100_000);
    expect(result?.archives?.[0]?.name).toBe("a2");
    expect(result?.warnings).toEqual([
      "the archive list was cut to the newest 100,000 of 100,002 archives",
    ]);
    expect(OutboxItem.safeParse(fitted).success).toBe(true);
  });
});

describe("progress and heartbeat bodies", () => {
  test("a long current file and phase are cut to the progress caps", () => {
    const report = { current_file: `/data/${"f".repeat(5000)}`, phase: "p".repeat(300) };
    expect(ProgressRequest.safeParse(report).success).toBe(false);
    const fitted = fitProgress(report);
    expect(ProgressRequest.safeParse(fitted).success).toBe(true);
    expect(fitted.current_file?.length).toBe(4096);
    expect(fitted.phase?.length).toBe(128);
    expect(fitProgress({ current_file: null })).toEqual({ current_file: null });
  });

  test("a long last_error is cut to the heartbeat cap", () => {
    const body = {
      agent_id: "agent-1",
      protocol_version: 1,
      running_job_ids: [],
      last_error: `cannot reach the hub at https://hub: ${"e".repeat(5000)}`,
    };
    expect(HeartbeatRequest.safeParse(body).success).toBe(false);
    const fitted = fitHeartbeat(body);
    expect(HeartbeatRequest.safeParse(fitted).success).toBe(true);
    expect(fitted.last_error?.length).toBe(4096);
    expect(fitHeartbeat({ ...body, last_error: null }).last_error).toBeNull();
  });
});

describe("text the protocol refuses", () => {
  test("a NUL is shown as \\0, and one-line fields lose their control characters", () => {
    expect(fitText("a\0b", 100)).toBe("a\\0b");
    expect(fitLine("checking\nsegments\t1", 100)).toBe("checking segments 1");
    const progress = fitProgress({ phase: "a\u001bb", current_file: "/x\0y" });
    expect(ProgressRequest.parse(progress)).toEqual({ phase: "a b", current_file: "/x\\0y" });
  });
});
