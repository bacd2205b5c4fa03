/**
 * Which hub replica holds the browser of a download (services/archive-download.ts), so an
 * agent's chunk that lands on another replica can be handed on to it. One process (SQLite,
 * or a replica without replica_url) knows only its own relays: LocalDownloadDirectory
 * knows no owner elsewhere. On PostgreSQL, db/pg/download-signals.ts tells every replica
 * when a relay opens on one that other replicas can reach (its replica_url) and when it
 * closes.
 */
export interface DownloadDirectory {
  /** A relay for `jobId` opened here, reachable by the other replicas at `url`. */
  announce(jobId: number, url: string): void;
  /** That relay ended. */
  withdraw(jobId: number): void;
  /** The URL of the replica holding `jobId`'s relay, when another one announced it. */
  ownerOf(jobId: number): string | undefined;
}

export class LocalDownloadDirectory implements DownloadDirectory {
  announce(): void {}
  withdraw(): void {}
  ownerOf(): string | undefined {
    return undefined;
  }
}
