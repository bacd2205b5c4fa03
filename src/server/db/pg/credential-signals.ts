/**
 * The replica-aware AgentCredentials (services/agent-credentials.ts) on PostgreSQL
 * LISTEN/NOTIFY: each hub process keeps its verified credentials in memory and relays
 * every invalidation through one channel, so a credential disabled, revoked or deleted
 * through one replica is refused by every other as soon as the NOTIFY arrives.
 *   borgctl_agent_credentials  payload "<replica>:<machineId>"
 *
 * Lifecycle: start() subscribes (Bun.SQL reconnects the LISTEN connection and
 * re-subscribes); after each re-subscribe everything is forgotten, since invalidations
 * sent while the connection was down are gone. close() sends what is pending and
 * unsubscribes. A failed send is logged (db/pg/job-signals.ts NotifyBatcher); the other
 * replicas then drop the entry when its CREDENTIAL_TRUST_MS runs out.
 */
import type { Logger } from "../../../shared/log.ts";
import {
  type AgentCredentials,
  InMemoryAgentCredentials,
  type VerifiedAgent,
} from "../../services/agent-credentials.ts";
import { NotifyBatcher } from "./job-signals.ts";

export const CREDENTIALS_CHANNEL = "borgctl_agent_credentials";

export class PgAgentCredentials implements AgentCredentials {
  private readonly local = new InMemoryAgentCredentials();
  private readonly replica = crypto.randomUUID().slice(0, 8);
  private readonly sender: NotifyBatcher;
  private subscription: Bun.SQL.ListenSubscription | undefined;

  constructor(
    private readonly pool: Bun.SQL,
    logger: Logger,
  ) {
    this.sender = new NotifyBatcher(pool, CREDENTIALS_CHANNEL, logger);
  }

  async start(): Promise<void> {
    let first = true;
    this.subscription = await this.pool.listen(
      CREDENTIALS_CHANNEL,
      (payload) => {
        const [from, id] = payload.split(":");
        if (from === this.replica) return;
        const machineId = Number(id);
        if (Number.isInteger(machineId)) this.local.invalidate(machineId);
      },
      () => {
        if (!first) this.local.invalidateAll();
        first = false;
      },
    );
  }

  get(tokenHash: string): VerifiedAgent | undefined {
    return this.local.get(tokenHash);
  }

  ticket(): number {
    return this.local.ticket();
  }

  remember(tokenHash: string, agent: VerifiedAgent, ticket: number): void {
    this.local.remember(tokenHash, agent, ticket);
  }

  invalidate(machineId: number): void {
    this.local.invalidate(machineId);
    this.sender.send(`${this.replica}:${machineId}`);
  }

  invalidateAll(): void {
    this.local.invalidateAll();
  }

  verifiedLongerThan(ms: number): { tokenHash: string; machineId: number }[] {
    return this.local.verifiedLongerThan(ms);
  }

  get size(): number {
    return this.local.size;
  }

  async close(): Promise<void> {
    await this.sender.drain();
    await this.subscription?.unlisten();
    this.subscription = undefined;
  }
}
