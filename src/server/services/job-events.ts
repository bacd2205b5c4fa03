/**
 * Live job events for the UI (SSE): progress, log lines and status changes, published by
 * the services as they happen. JobEventBus is what the services use (deps.events);
 * InMemoryJobEventBus serves one hub process. With hub replicas an upload may land on
 * one replica while the browser listens on another, so a replica-aware bus (PostgreSQL
 * LISTEN/NOTIFY) implements the same interface. Either way a subscriber that connects
 * late reads history from the database first: events are a live tail, not a record.
 */
export type JobEvent =
  | { type: "progress"; data: Record<string, unknown> }
  | { type: "log"; data: { sequence: number; stream: string; message: string; created_at: string } }
  | { type: "status"; data: { status: string } };

export interface JobEventBus {
  /** Calls `listener` for each event of the job from now on; returns the unsubscribe. */
  subscribe(jobId: number, listener: (event: JobEvent) => void): () => void;
  /** Delivers to every subscriber of the job (on every replica); fire and forget. */
  publish(jobId: number, event: JobEvent): void;
}

export class InMemoryJobEventBus implements JobEventBus {
  private readonly listeners = new Map<number, Set<(event: JobEvent) => void>>();

  subscribe(jobId: number, listener: (event: JobEvent) => void): () => void {
    let set = this.listeners.get(jobId);
    if (!set) {
      set = new Set();
      this.listeners.set(jobId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  publish(jobId: number, event: JobEvent): void {
    for (const listener of [...(this.listeners.get(jobId) ?? [])]) listener(event);
  }
}
