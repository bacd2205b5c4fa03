import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { ListingSpool, toListingEntry } from "../../../src/agent/listing-spool.ts";
import {
  ListingChunk,
  MAX_LISTING_CHUNK_BYTES,
  MAX_LISTING_CHUNK_ENTRIES,
} from "../../../src/shared/protocol/agent.ts";

const line = (path: string, type = "-", size = 1) =>
  JSON.stringify({ type, mode: "-rw-r--r--", path, size, mtime: "2026-12-02T00:34:10.055269" });

describe("toListingEntry", () => {
  test("borg's item as the protocol's entry: types, sizes, UTC mtime", () => {
    expect(
      toListingEntry({
        type: "d",
        path: "home/u",
        size: 0,
        mode: "drwxr-xr-x",
        mtime: "2026-12-02T00:34:10.055269",
      }),
    ).toEqual({
      path: "home/u",
      type: "dir",
      size: 0,
      mtime: "2026-12-02T00:34:10.055Z",
      mode: "drwxr-xr-x",
    });
    expect(toListingEntry({ type: "l", path: "a", size: 5 })?.type).toBe("link");
    expect(toListingEntry({ type: "c", path: "dev/null", size: 0 })?.type).toBe("file");
    expect(toListingEntry({ type: "-", path: "x".repeat(5000) })).toBeUndefined();
  });
});

describe("ListingSpool", () => {
  test("many entries come back in order, in chunks within the protocol's caps", async () => {
    const spool = await ListingSpool.open();
    const total = MAX_LISTING_CHUNK_ENTRIES * 2 + 17;
    for (let i = 0; i < total; i++) spool.add(line(`d/file-${i}`));
    spool.add("");
    spool.close();
    expect(spool.count).toBe(total);
    const seen: string[] = [];
    let sequence = 0;
    for await (const chunk of spool.chunks()) {
      expect(ListingChunk.safeParse(chunk).success).toBe(true);
      expect(chunk.sequence).toBe(sequence++);
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(MAX_LISTING_CHUNK_BYTES);
      seen.push(...chunk.entries.map((e) => e.path));
    }
    expect(sequence).toBe(3);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => `d/file-${i}`));
    await spool.remove();
  });

  test("long paths are cut into chunks by bytes, not only by count", async () => {
    const spool = await ListingSpool.open();
    for (let i = 0; i < 3000; i++) spool.add(line(`${"p".repeat(3000)}/${i}`));
    spool.close();
    let chunks = 0;
    for await (const chunk of spool.chunks()) {
      chunks++;
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(MAX_LISTING_CHUNK_BYTES);
    }
    expect(chunks).toBeGreaterThan(1);
    await spool.remove();
  });

  test("a line that is not borg's item is the listing's error; remove deletes the spool", async () => {
    const spool = await ListingSpool.open();
    spool.add(line("a"));
    spool.add("not json");
    spool.add(line("b"));
    spool.close();
    expect(spool.error).toMatch(/not JSON/);
    const dir = (spool as unknown as { dir: string }).dir;
    expect(existsSync(dir)).toBe(true);
    await spool.remove();
    expect(existsSync(dir)).toBe(false);
  });
});
