import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../../../src/shared/process/lines.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds the chunks through a splitter and returns every line it delivered. */
function split(chunks: (string | Uint8Array)[], maxLineChars?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), { maxLineChars });
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? bytes(chunk) : chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  test("splits on \\n and keeps empty lines in the middle", () => {
    expect(split(["a\n\nb\n"])).toEqual(["a", "", "b"]);
  });

  test("delivers a final line without newline at end(), but no empty line after a final \\n", () => {
    expect(split(["a\nlast"])).toEqual(["a", "last"]);
    expect(split(["a\n"])).toEqual(["a"]);
    expect(split([])).toEqual([]);
  });

  test("strips \\r of \\r\\n, also when the pair is split across chunks", () => {
    expect(split(["one\r\ntwo\r", "\nthree\r\n"])).toEqual(["one", "two", "three"]);
  });

  test("joins a line split across many chunks", () => {
    expect(split(["he", "ll", "o\nwor", "ld"])).toEqual(["hello", "world"]);
  });

  test("decodes a multi-byte character whose bytes arrive in separate chunks", () => {
    const text = bytes("é€😀\n");
    const oneByteChunks = [...text].map((b) => Uint8Array.of(b));
    expect(split(oneByteChunks)).toEqual(["é€😀"]);
  });

  test("replaces invalid UTF-8 with U+FFFD instead of failing", () => {
    expect(split([Uint8Array.of(0x61, 0xff, 0x62, 0x0a)])).toEqual(["a\uFFFDb"]);
  });

  test("cuts an over-long line and resumes with the next one", () => {
    expect(split(["abcdefgh", "ijk\nxy\n"], 4)).toEqual(["abcd", "xy"]);
    expect(split(["abcdefgh"], 4)).toEqual(["abcd"]);
    // A "\r" right at the cut is still a line ending, not content.
    expect(split(["abcd\r\n"], 4)).toEqual(["abcd"]);
  });

  test("end() is idempotent and push() after end() throws", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push(bytes("x"));
    splitter.end();
    splitter.end();
    expect(lines).toEqual(["x"]);
    expect(() => splitter.push(bytes("y"))).toThrow();
  });

  test("rejects a non-positive maxLineChars", () => {
    expect(() => new LineSplitter(() => {}, { maxLineChars: 0 })).toThrow(TypeError);
  });
});
