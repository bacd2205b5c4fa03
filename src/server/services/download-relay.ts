/**
 * The hand-over of a download's bytes (archive.download) from the agent's chunk uploads
 * to the browser's response, in this hub process's memory: nothing goes to disk.
 *
 * Lifecycle of one relay:
 *   1. open(jobId, size, onGone) when the user's request queued the job; `stream` is the
 *      response body, `started` settles at the first byte or when the download ends.
 *   2. push(offset, bytes) per agent upload, in order. It resolves once the bytes are in
 *      the stream's queue AND the queue is back under its high-water mark (one chunk):
 *      the agent's next upload waits for the browser, so at most about two chunks are
 *      held here per download however large the file or slow the browser. A resent
 *      chunk (offset below what arrived: the agent retried after a network error) is
 *      accepted once; a gap or bytes beyond `size` are refused.
 *   3. finish() when the job ended: a completed job whose bytes all arrived closes the
 *      stream; anything else errors it, so the browser sees a failed download (its
 *      Content-Length is not met either) rather than a short file.
 *   The browser going away (the stream canceled, or the request's signal) marks the relay
 *   gone and calls onGone (the service cancels the job); later pushes answer "gone",
 *   until finish() when the job ended removes the relay from the map.
 * A relay lives on the replica that holds the browser's request; an upload that lands on
 * another replica finds none (services/archive-download.ts says so to the agent).
 */

export type PushResult = "accepted" | "gone";

export class DownloadRefused extends Error {
  override readonly name = "DownloadRefused";
}

export class DownloadRelay {
  readonly stream: ReadableStream<Uint8Array>;
  /** Resolves at the first byte, or when the download ended (then `failure` says how). */
  readonly started: Promise<void>;
  /** Set when the download ended without all its bytes (the job's error). */
  failure: string | undefined;
  private received = 0;
  private gone = false;
  private ended = false;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private markStarted!: () => void;
  /** Resolves the push waiting for room in the queue. */
  private roomWaiter: (() => void) | undefined;

  constructor(
    readonly jobId: number,
    readonly size: number,
    highWaterBytes: number,
    private readonly onEnd: (relay: DownloadRelay) => void,
    private readonly onGone: () => void,
  ) {
    this.started = new Promise((resolve) => {
      this.markStarted = resolve;
    });
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.wakePush(),
        cancel: () => this.browserLeft(),
      },
      { highWaterMark: highWaterBytes, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** The browser stopped reading (closed the tab, canceled the download). */
  browserLeft(): void {
    if (this.gone || this.ended) return;
    this.gone = true;
    this.markStarted();
    this.wakePush();
    this.onGone();
  }

  async push(offset: number, bytes: Uint8Array): Promise<PushResult> {
    if (this.gone) return "gone";
    if (this.ended) throw new DownloadRefused(`the download of job ${this.jobId} is over`);
    if (offset + bytes.byteLength <= this.received) return this.waitForRoom();
    if (offset !== this.received) {
      throw new DownloadRefused(
        `a chunk at byte ${offset}, but the hub has ${this.received} bytes of job ${this.jobId}'s file`,
      );
    }
    if (this.received + bytes.byteLength > this.size) {
      throw new DownloadRefused(
        `job ${this.jobId}'s file has ${this.size} bytes; this chunk would make ${this.received + bytes.byteLength}`,
      );
    }
    this.received += bytes.byteLength;
    this.controller.enqueue(bytes);
    this.markStarted();
    return this.waitForRoom();
  }

  /** The job ended: close the stream when it completed with every byte, else fail it. */
  finish(failure: string | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (failure === undefined && this.received !== this.size) {
      failure = `the machine sent ${this.received} of ${this.size} bytes`;
    }
    this.failure = failure;
    if (!this.gone) {
      if (failure === undefined) this.controller.close();
      else this.controller.error(new Error(failure));
    }
    this.markStarted();
    this.wakePush();
    this.onEnd(this);
  }

  private async waitForRoom(): Promise<PushResult> {
    while (!this.gone && !this.ended && (this.controller.desiredSize ?? 0) <= 0) {
      await new Promise<void>((resolve) => {
        this.roomWaiter = resolve;
      });
    }
    return this.gone ? "gone" : "accepted";
  }

  private wakePush(): void {
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter?.();
  }
}

/** This process's open downloads, by job id. */
export class DownloadRelays {
  private readonly open = new Map<number, DownloadRelay>();

  constructor(private readonly highWaterBytes: number) {}

  /** onEnded runs once, when the relay leaves this map (its job ended). */
  create(jobId: number, size: number, onGone: () => void, onEnded = () => {}): DownloadRelay {
    const relay = new DownloadRelay(
      jobId,
      size,
      this.highWaterBytes,
      (ended) => {
        if (this.open.get(ended.jobId) === ended) this.open.delete(ended.jobId);
        onEnded();
      },
      onGone,
    );
    this.open.set(jobId, relay);
    return relay;
  }

  get(jobId: number): DownloadRelay | undefined {
    return this.open.get(jobId);
  }

  get size(): number {
    return this.open.size;
  }
}
