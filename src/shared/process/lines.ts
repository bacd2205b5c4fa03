/**
 * Turns a byte stream (a child's stdout or stderr, read chunk by chunk) into text lines.
 *
 * Chunks arrive wherever the pipe happened to cut them: in the middle of a line, of a
 * "\r\n" pair, or of a multi-byte UTF-8 character. The splitter keeps the unfinished
 * part until the rest arrives, so every delivered line is whole and correctly decoded.
 * Invalid UTF-8 becomes U+FFFD rather than an error: a log line must never stop a run.
 */

/** Lines are delivered without their terminator; "\r\n" and "\n" both end a line. */
export type LineHandler = (line: string) => void;

export interface LineSplitterOptions {
  /**
   * Longest line kept, in UTF-16 code units. A longer line is delivered cut to this
   * length and the rest of it (up to its newline) is dropped, so a child that writes
   * endless bytes without a newline cannot make us buffer all of them.
   */
  maxLineChars?: number;
}

/** 1 Mi chars: far above any real log line, far below a memory problem. */
export const DEFAULT_MAX_LINE_CHARS = 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new TextDecoder("utf-8");
  private readonly maxLineChars: number;
  /** Text of the line being assembled (no newline in it yet). */
  private pending = "";
  /** True while skipping the rest of a line that was already cut at maxLineChars. */
  private discarding = false;
  private ended = false;

  constructor(
    private readonly onLine: LineHandler,
    options: LineSplitterOptions = {},
  ) {
    const max = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`maxLineChars must be a positive integer, got ${max}`);
    }
    this.maxLineChars = max;
  }

  /** Feeds the next chunk; calls onLine for every line it completes. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error("LineSplitter.push called after end()");
    // stream: true keeps a character split across chunks until its last byte arrives.
    this.consume(this.decoder.decode(chunk, { stream: true }));
  }

  /** Marks end of stream: flushes the decoder and delivers a final unterminated line. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.consume(this.decoder.decode());
    if (this.pending !== "") this.emit(this.pending);
    this.pending = "";
    this.discarding = false;
  }

  private consume(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf("\n", start);
      if (newline === -1) break;
      this.append(text.slice(start, newline));
      this.emit(this.pending);
      this.pending = "";
      this.discarding = false;
      start = newline + 1;
    }
    if (start < text.length) this.append(text.slice(start));
  }

  private append(part: string): void {
    if (this.discarding) return;
    this.pending += part;
    if (this.pending.length > this.maxLineChars) {
      // Keep one extra char so a "\r" right at the cut is still recognised and stripped.
      this.pending = this.pending.slice(0, this.maxLineChars + 1);
      this.discarding = true;
    }
  }

  private emit(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    this.onLine(line.length > this.maxLineChars ? line.slice(0, this.maxLineChars) : line);
  }
}
