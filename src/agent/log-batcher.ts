/**
 * Collects a job's log lines into batches for upload: a batch leaves when it reaches
 * `maxLines`, `maxChars` of text or `maxDelayMs` after its first line, whichever comes
 * first. The text bound keeps a batch of long lines well under the hub's request size
 * limit (200 lines of 16 KiB would be over it, and a refused upload is a lost log). Every line gets
 * the next sequence number (strictly increasing, so the hub can drop re-uploads) and is
 * redacted before it is queued: a secret never reaches the outbox, the disk or the hub.
 */
import { type LogEntry, MAX_LOG_MESSAGE_CHARS } from "../shared/protocol/agent.ts";

export interface LogBatcherOptions {
  /** Receives each batch in order; the batcher waits for it before sending the next. */
  deliver: (entries: LogEntry[]) => Promise<void>;
  redact: (text: string) => string;
  maxLines?: number;
  /** Characters of message text per batch (JSON may need up to 6 bytes for one). */
  maxChars?: number;
  maxDelayMs?: number;
  firstSequence?: number;
  now?: () => number;
}

/** The hub keeps lines up to 16 KiB; longer ones are cut with a marker. */
const MAX_MESSAGE_CHARS = MAX_LOG_MESSAGE_CHARS - 32;

export class LogBatcher {
  private buffer: LogEntry[] = [];
  private bufferedChars = 0;
  private nextSequence: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LogBatcherOptions) {
    this.nextSequence = options.firstSequence ?? 0;
    this.maxLines = options.maxLines ?? 200;
    this.maxChars = options.maxChars ?? 128 * 1024;
    this.maxDelayMs = options.maxDelayMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  push(stream: LogEntry["stream"], message: string): void {
    let text = this.options.redact(message);
    if (text.length > MAX_MESSAGE_CHARS) text = `${text.slice(0, MAX_MESSAGE_CHARS)} …[line cut]`;
    this.buffer.push({
      sequence: this.nextSequence++,
      stream,
      message: text,
      created_at: new Date(this.now()).toISOString(),
    });
    this.bufferedChars += text.length;
    if (this.buffer.length >= this.maxLines || this.bufferedChars >= this.maxChars) {
      void this.flush();
    } else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
  }

  /** Sends what is buffered (after any batch already on its way). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedChars = 0;
    // A failed delivery must not stop later batches: each batch goes on its own; the
    // caller sees a failure through the promise of the flush that carried it.
    if (batch.length > 0)
      this.chain = this.chain.catch(() => undefined).then(() => this.options.deliver(batch));
    return this.chain;
  }

  /** The sequence the next line will get. */
  get sequence(): number {
    return this.nextSequence;
  }
}
