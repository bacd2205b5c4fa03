/**
 * Output buffers for spawned processes: a byte-capped capture of stdout, and the last
 * N lines of stderr. Both bound memory whatever a child writes.
 */
const MAX_TAIL_LINE_CHARS = 4096;

/** Keeps at most maxBytes of a byte stream; the rest is counted as truncation, not stored. */
export class ByteCapture {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Uint8Array): void {
    const room = this.maxBytes - this.size;
    if (chunk.byteLength > room) this.truncated = true;
    const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    if (kept.byteLength === 0) return;
    this.chunks.push(kept);
    this.size += kept.byteLength;
  }

  text(): string {
    if (this.size === 0) return "";
    const bytes = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    // When cut at the cap, stream mode drops a character whose bytes were cut in half
    // instead of ending the text with U+FFFD.
    return new TextDecoder().decode(bytes, { stream: this.truncated });
  }
}

/** The last N lines, each cut to MAX_TAIL_LINE_CHARS. */
export class Tail {
  private readonly kept: string[] = [];

  constructor(private readonly max: number) {}

  add(line: string): void {
    if (this.max === 0) return;
    this.kept.push(line.length > MAX_TAIL_LINE_CHARS ? line.slice(0, MAX_TAIL_LINE_CHARS) : line);
    if (this.kept.length > this.max) this.kept.shift();
  }

  lines(): string[] {
    return [...this.kept];
  }
}
