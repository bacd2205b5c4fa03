/**
 * The in-memory hand-over of a download's bytes (services/download-relay.ts): order,
 * resends, refusals, backpressure against a reader that does not read, and how the
 * stream ends for each way the job ends.
 */
import { describe, expect, test } from "bun:test";
import {
  DownloadRefused,
  type DownloadRelay,
  DownloadRelays,
} from "../../../../src/server/services/download-relay.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

function relayOf(size: number, highWater = 4) {
  const relays = new DownloadRelays(highWater);
  let gone = 0;
  const relay = relays.create(7, size, () => gone++);
  return { relays, relay, gone: () => gone };
}

async function readAll(relay: DownloadRelay): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of relay.stream) out.push(...chunk);
  return out;
}

/** Whether `promise` settled by the time everything already queued has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await Bun.sleep(10);
  return done;
}

describe("DownloadRelay", () => {
  test("chunks in order become the stream; a completed job closes it", async () => {
    const { relays, relay } = relayOf(5, 100);
    expect(await relay.push(0, bytes(1, 2))).toBe("accepted");
    expect(await relay.push(2, bytes(3, 4, 5))).toBe("accepted");
    relay.finish(undefined);
    expect(await readAll(relay)).toEqual([1, 2, 3, 4, 5]);
    expect(relays.size).toBe(0);
  });

  test("a resent chunk is taken once; a gap or bytes beyond the size are refused", async () => {
    const { relay } = relayOf(4, 100);
    await relay.push(0, bytes(1, 2));
    expect(await relay.push(0, bytes(1, 2))).toBe("accepted");
    expect(relay.bytesReceived).toBe(2);
    await expect(relay.push(3, bytes(9))).rejects.toBeInstanceOf(DownloadRefused);
    await expect(relay.push(2, bytes(3, 4, 5))).rejects.toThrow(/has 4 bytes/);
    await relay.push(2, bytes(3, 4));
    relay.finish(undefined);
    expect(await readAll(relay)).toEqual([1, 2, 3, 4]);
  });

  test("a push waits while the reader is a chunk behind, and goes on when it reads", async () => {
    const { relay } = relayOf(12, 4);
    const first = relay.push(0, bytes(1, 2, 3, 4));
    expect(await settled(first)).toBe(false);
    const reader = relay.stream.getReader();
    expect((await reader.read()).value).toEqual(bytes(1, 2, 3, 4));
    expect(await settled(first)).toBe(true);
    const second = relay.push(4, bytes(5, 6, 7, 8));
    expect(await settled(second)).toBe(false);
    await reader.read();
    expect(await second).toBe("accepted");
  });

  test("a job that ends short, or fails, errors the stream", async () => {
    const short = relayOf(4, 100).relay;
    await short.push(0, bytes(1, 2));
    short.finish(undefined);
    expect(short.failure).toBe("the machine sent 2 of 4 bytes");
    await expect(readAll(short)).rejects.toThrow("2 of 4");

    const failed = relayOf(4, 100).relay;
    failed.finish("borg: repository is locked");
    await expect(failed.started).resolves.toBeUndefined();
    await expect(readAll(failed)).rejects.toThrow("locked");
  });

  test("the browser leaving wakes a waiting push with gone, once", async () => {
    const { relays, relay, gone } = relayOf(8, 4);
    const waiting = relay.push(0, bytes(1, 2, 3, 4));
    await relay.stream.cancel();
    expect(await waiting).toBe("gone");
    expect(await relay.push(4, bytes(5))).toBe("gone");
    relay.browserLeft();
    expect(gone()).toBe(1);
    // Kept until the job ends, so every later upload hears "gone" too.
    expect(relays.get(7)).toBe(relay);
    relay.finish("canceled");
    expect(relays.size).toBe(0);
  });
});
