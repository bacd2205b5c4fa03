/**
 * An archive listing on its way to the hub (archive.browse): borg's --json-lines come in
 * faster than they can be uploaded and may number millions, so each line becomes one
 * protocol ListingEntry appended to a spool file (0600, in a 0700 temp directory), and
 * once borg is done the spool is read back as a stream and cut into chunks that fit the
 * protocol's caps (entries and bytes). Memory stays bounded by one write buffer and one
 * chunk, whatever the archive's size.
 *
 * Lifecycle: open() → add(line)… (synchronous, from runBorg's onStdoutLine) → close() →
 * chunks() (once) → remove() (always, also after a failure).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BorgListItem, borgTimestampToIso, parseListItemLine } from "../borg/output.ts";
import { LineSplitter } from "../shared/process/lines.ts";
import {
  type ListingChunk,
  type ListingEntry,
  MAX_LISTING_CHUNK_BYTES,
  MAX_LISTING_CHUNK_ENTRIES,
  MAX_MEMBER_PATH_CHARS,
} from "../shared/protocol/agent.ts";
import { codePointLength } from "./upload-limits.ts";

const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Room for the chunk's own JSON around its entries. */
const CHUNK_OVERHEAD_BYTES = 1024;

/** A borg item as the protocol's entry, or undefined for one the hub could not store. */
export function toListingEntry(item: BorgListItem): ListingEntry | undefined {
  const path = item.path.replace(/^\/+/, "");
  if (path === "" || path.includes("\0") || codePointLength(path) > MAX_MEMBER_PATH_CHARS)
    return undefined;
  const type = item.type === "d" ? "dir" : item.type === "l" ? "link" : "file";
  return {
    path,
    type,
    size: type === "dir" ? 0 : (item.size ?? 0),
    mtime: item.mtime === undefined ? null : (borgTimestampToIso(item.mtime) ?? null),
    mode: item.mode && item.mode.length <= 16 ? item.mode : null,
  };
}

export class ListingSpool {
  private buffer: string[] = [];
  private buffered = 0;
  private fd: number | undefined;
  /** Entries written. */
  count = 0;
  /** Members borg listed that the hub could not store (a path over the cap). */
  skipped = 0;
  /** The first line that could not be read, if any: the listing is then incomplete. */
  error: string | undefined;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
  ) {
    this.fd = openSync(file, "w", 0o600);
  }

  static async open(): Promise<ListingSpool> {
    const dir = await mkdtemp(join(tmpdir(), "borgctl-listing-"));
    return new ListingSpool(dir, join(dir, "listing.ndjson"));
  }

  add(line: string): void {
    if (line.trim() === "" || this.error !== undefined) return;
    const read = parseListItemLine(line);
    if (!read.ok) {
      this.error = read.error;
      return;
    }
    const entry = toListingEntry(read.item);
    if (!entry) {
      this.skipped++;
      return;
    }
    const json = `${JSON.stringify(entry)}\n`;
    this.buffer.push(json);
    this.buffered += json.length;
    this.count++;
    if (this.buffered >= WRITE_BUFFER_BYTES) this.flush();
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The spooled entries in protocol chunks, read back as a stream. */
  async *chunks(): AsyncGenerator<ListingChunk> {
    let entries: ListingEntry[] = [];
    let bytes = CHUNK_OVERHEAD_BYTES;
    let sequence = 0;
    const ready: ListingEntry[][] = [];
    const splitter = new LineSplitter((line) => {
      if (line === "") return;
      const size = Buffer.byteLength(line) + 1;
      if (
        entries.length > 0 &&
        (entries.length >= MAX_LISTING_CHUNK_ENTRIES || bytes + size > MAX_LISTING_CHUNK_BYTES)
      ) {
        ready.push(entries);
        entries = [];
        bytes = CHUNK_OVERHEAD_BYTES;
      }
      entries.push(JSON.parse(line) as ListingEntry);
      bytes += size;
    });
    for await (const piece of Bun.file(this.file).stream()) {
      splitter.push(piece);
      while (ready.length > 0) {
        yield { sequence: sequence++, entries: ready.shift() as ListingEntry[] };
      }
    }
    splitter.end();
    for (const chunk of ready) yield { sequence: sequence++, entries: chunk };
    if (entries.length > 0) yield { sequence: sequence++, entries };
  }

  async remove(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }

  private flush(): void {
    if (this.buffer.length === 0 || this.fd === undefined) return;
    writeSync(this.fd, this.buffer.join(""));
    this.buffer = [];
    this.buffered = 0;
  }
}
