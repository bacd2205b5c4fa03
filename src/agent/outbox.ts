/**
 * The agent's durable outbox: every upload that must not be lost (job start, log
 * batches, the final result) is written here first, then sent, then removed. A hub
 * outage or an agent restart therefore loses nothing: the sender retries, and a new
 * agent process sends what an old one left, in the original order.
 *
 * On disk: one JSON file per item in `dir`, named by a zero-padded counter so the order
 * survives restarts; each is written to a temp file, fsynced and renamed into place.
 * Progress is not kept here: only its newest value matters, so it is sent directly.
 *
 * An item is checked against OutboxItem when it is written, so a result that would not
 * survive being read back is refused at once (the caller fits it first: upload-limits.ts).
 * One that still cannot be read back (a corrupt file, an older agent's format) comes back
 * from pending() as unreadable, with whatever job id its raw text still shows; the caller
 * reports it and moves it aside (setAside → `<name>.bad`, kept for inspection, never resent).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import {
  CanceledRequest,
  CompleteRequest,
  FailRequest,
  LogEntry,
  MAX_LOG_ENTRIES_PER_UPLOAD,
  StartRequest,
} from "../shared/protocol/agent.ts";
import { fitOutboxItems } from "./upload-limits.ts";

export const OutboxItem = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("start"), job_id: z.number().int(), body: StartRequest }),
  z.object({
    kind: z.literal("logs"),
    job_id: z.number().int(),
    body: z.object({ entries: z.array(LogEntry).min(1).max(MAX_LOG_ENTRIES_PER_UPLOAD) }),
  }),
  z.object({ kind: z.literal("complete"), job_id: z.number().int(), body: CompleteRequest }),
  z.object({ kind: z.literal("fail"), job_id: z.number().int(), body: FailRequest }),
  z.object({ kind: z.literal("canceled"), job_id: z.number().int(), body: CanceledRequest }),
]);
export type OutboxItem = z.infer<typeof OutboxItem>;

export interface StoredItem {
  /** File name; pass it to remove(). */
  id: string;
  item: OutboxItem;
}

/** A queued file that does not read back as an OutboxItem. */
export interface UnreadableItem {
  /** File name; pass it to setAside(). */
  id: string;
  reason: string;
  /** Recovered from the raw text when it still shows them. */
  jobId?: number;
  kind?: string;
}

export interface PendingItems {
  items: StoredItem[];
  unreadable: UnreadableItem[];
}

/** An item that would not read back: refused before it reaches the disk. */
export class InvalidOutboxItem extends Error {
  override readonly name = "InvalidOutboxItem";
}

const NAME = /^(\d{12})\.json$/;
/** Set-aside files still hold their number, so a counter after a restart never reuses it. */
const NUMBERED = /^(\d{12})\.json(?:\.bad)?$/;
const BAD_SUFFIX = ".bad";

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) =>
      issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
}

/**
 * Reads one queued file. An item that is valid except for a text over a cap (queued by an
 * agent before upload-limits.ts) is fitted and used, not lost.
 */
function readItem(text: string): { item: OutboxItem } | { reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = OutboxItem.safeParse(raw);
  if (parsed.success) return { item: parsed.data };
  try {
    const fitted = fitOutboxItems(raw as OutboxItem);
    if (fitted.length === 1) {
      const refitted = OutboxItem.safeParse(fitted[0]);
      if (refitted.success) return { item: refitted.data };
    }
  } catch {
    // Not even the shape of an item: report the original problem.
  }
  return { reason: describeIssues(parsed.error) };
}

/** The job id and kind of a broken item, from its raw text, when they are still there. */
function recoverIdentity(text: string): { jobId?: number; kind?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // A cut or damaged file: the top-level keys come first, ahead of any body text, and a
    // quote inside a JSON string is escaped, so the first unescaped match is the item's own.
    const jobId = /(?<!\\)"job_id"\s*:\s*(\d{1,15})\b/.exec(text)?.[1];
    const kind = /(?<!\\)"kind"\s*:\s*"([a-z]{1,16})"/.exec(text)?.[1];
    return { ...(jobId ? { jobId: Number(jobId) } : {}), ...(kind ? { kind } : {}) };
  }
  const record = (raw ?? {}) as { job_id?: unknown; kind?: unknown };
  const identity: { jobId?: number; kind?: string } = {};
  if (Number.isSafeInteger(record.job_id)) identity.jobId = record.job_id as number;
  if (typeof record.kind === "string") identity.kind = record.kind;
  return identity;
}

export class Outbox {
  private counter: number | undefined;

  constructor(private readonly dir: string) {}

  /** Queues one item durably; throws InvalidOutboxItem for one that would not read back. */
  async append(item: OutboxItem): Promise<void> {
    const checked = OutboxItem.safeParse(item);
    if (!checked.success) {
      throw new InvalidOutboxItem(
        `refusing to queue an invalid ${String(item?.kind)} upload for job ${String(item?.job_id)}: ${describeIssues(checked.error)}`,
      );
    }
    const counter = await this.nextCounter();
    const name = `${String(counter).padStart(12, "0")}.json`;
    const temp = join(this.dir, `.${name}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(JSON.stringify(item));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(this.dir, name));
  }

  /** Everything not yet delivered, oldest first, and the files that no longer read back. */
  async pending(): Promise<PendingItems> {
    const names = (await this.names()).sort();
    const items: StoredItem[] = [];
    const unreadable: UnreadableItem[] = [];
    for (const name of names) {
      let text: string;
      try {
        text = await readFile(join(this.dir, name), "utf8");
      } catch (error) {
        // Gone meanwhile (removed by a sender that finished it): nothing to report.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        unreadable.push({ id: name, reason: (error as Error).message });
        continue;
      }
      const read = readItem(text);
      if ("item" in read) items.push({ id: name, item: read.item });
      else unreadable.push({ id: name, reason: read.reason, ...recoverIdentity(text) });
    }
    return { items, unreadable };
  }

  /** Moves an unreadable item out of the queue (kept as `<name>.bad`); returns the new name. */
  async setAside(id: string): Promise<string> {
    if (!NAME.test(id)) throw new Error(`not an outbox item: ${id}`);
    const bad = `${id}${BAD_SUFFIX}`;
    await rename(join(this.dir, id), join(this.dir, bad));
    return bad;
  }

  async remove(id: string): Promise<void> {
    if (!NAME.test(id)) throw new Error(`not an outbox item: ${id}`);
    await rm(join(this.dir, id), { force: true });
  }

  private async names(pattern = NAME): Promise<string[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return (await readdir(this.dir)).filter((n) => pattern.test(n));
  }

  private async nextCounter(): Promise<number> {
    if (this.counter === undefined) {
      const numbers = (await this.names(NUMBERED)).map((n) => Number(NUMBERED.exec(n)?.[1]));
      this.counter = numbers.length ? Math.max(...numbers) + 1 : 1;
    }
    return this.counter++;
  }
}
