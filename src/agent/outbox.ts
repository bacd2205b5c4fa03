/**
 * The agent's durable outbox: every upload that must not be lost (job start, log
 * batches, the final result) is written here first, then sent, then removed. A hub
 * outage or an agent restart therefore loses nothing: the sender retries, and a new
 * agent process sends what an old one left, in the original order.
 *
 * On disk: one JSON file per item in `dir`, named by a zero-padded counter so the order
 * survives restarts; each is written to a temp file, fsynced and renamed into place.
 * Progress is not kept here: only its newest value matters, so it is sent directly.
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
  StartRequest,
} from "../shared/protocol/agent.ts";

export const OutboxItem = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("start"), job_id: z.number().int(), body: StartRequest }),
  z.object({
    kind: z.literal("logs"),
    job_id: z.number().int(),
    body: z.object({ entries: z.array(LogEntry) }),
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

const NAME = /^(\d{12})\.json$/;

export class Outbox {
  private counter: number | undefined;

  constructor(private readonly dir: string) {}

  async append(item: OutboxItem): Promise<void> {
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

  /** Everything not yet delivered, oldest first. Unreadable files are skipped and reported. */
  async pending(onBad?: (name: string, reason: string) => void): Promise<StoredItem[]> {
    const names = (await this.names()).sort();
    const items: StoredItem[] = [];
    for (const name of names) {
      try {
        const parsed = OutboxItem.safeParse(
          JSON.parse(await readFile(join(this.dir, name), "utf8")),
        );
        if (parsed.success) items.push({ id: name, item: parsed.data });
        else onBad?.(name, parsed.error.issues[0]?.message ?? "invalid");
      } catch (error) {
        onBad?.(name, (error as Error).message);
      }
    }
    return items;
  }

  async remove(id: string): Promise<void> {
    if (!NAME.test(id)) throw new Error(`not an outbox item: ${id}`);
    await rm(join(this.dir, id), { force: true });
  }

  private async names(): Promise<string[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return (await readdir(this.dir)).filter((n) => NAME.test(n));
  }

  private async nextCounter(): Promise<number> {
    if (this.counter === undefined) {
      const numbers = (await this.names()).map((n) => Number(NAME.exec(n)?.[1]));
      this.counter = numbers.length ? Math.max(...numbers) + 1 : 1;
    }
    return this.counter++;
  }
}
