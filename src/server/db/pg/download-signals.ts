/**
 * The replica-aware DownloadDirectory (services/download-directory.ts) on PostgreSQL
 * LISTEN/NOTIFY: a replica that opens a download relay says where the others reach it,
 * and says again when the relay ends.
 *   borgctl_downloads  payload JSON {r: replica, j: jobId, u?: its replica_url}
 * (with `u`: opened; without: ended). Each replica keeps the open ones of the others in
 * memory.
 *
 * Lifecycle: start() subscribes; close() sends what is pending and unsubscribes. A
 * replica that starts after a relay opened, or missed a NOTIFY while its LISTEN
 * connection was down, does not know that relay: a chunk reaching it is refused (409) and
 * that download fails, saying so, as it would without replica_url. Entries of relays
 * whose end was missed are dropped after ENTRY_TTL_MS.
 */
import type { Logger } from "../../../shared/log.ts";
import type { DownloadDirectory } from "../../services/download-directory.ts";
import { NotifyBatcher } from "./job-signals.ts";

export const DOWNLOADS_CHANNEL = "borgctl_downloads";
/** Longer than any download may run (the job's lease renews with each chunk). */
const ENTRY_TTL_MS = 24 * 60 * 60_000;

export class PgDownloadDirectory implements DownloadDirectory {
  private readonly replica = crypto.randomUUID().slice(0, 8);
  private readonly owners = new Map<number, { url: string; at: number }>();
  private readonly sender: NotifyBatcher;
  private subscription: Bun.SQL.ListenSubscription | undefined;

  constructor(
    private readonly pool: Bun.SQL,
    logger: Logger,
  ) {
    this.sender = new NotifyBatcher(pool, DOWNLOADS_CHANNEL, logger);
  }

  async start(): Promise<void> {
    this.subscription = await this.pool.listen(DOWNLOADS_CHANNEL, (payload) =>
      this.receive(payload),
    );
  }

  announce(jobId: number, url: string): void {
    this.sender.send(JSON.stringify({ r: this.replica, j: jobId, u: url }));
  }

  withdraw(jobId: number): void {
    this.sender.send(JSON.stringify({ r: this.replica, j: jobId }));
  }

  ownerOf(jobId: number): string | undefined {
    const entry = this.owners.get(jobId);
    if (entry && Date.now() - entry.at > ENTRY_TTL_MS) {
      this.owners.delete(jobId);
      return undefined;
    }
    return entry?.url;
  }

  async close(): Promise<void> {
    await this.sender.drain();
    await this.subscription?.unlisten();
    this.subscription = undefined;
  }

  private receive(payload: string): void {
    let message: { r?: unknown; j?: unknown; u?: unknown };
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (message.r === this.replica || !Number.isInteger(message.j)) return;
    const jobId = message.j as number;
    if (typeof message.u === "string") this.owners.set(jobId, { url: message.u, at: Date.now() });
    else this.owners.delete(jobId);
  }
}
