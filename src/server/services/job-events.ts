/**
 * Live job events for the UI (SSE): progress, log lines and status changes, published by
 * the agent runtime routes as uploads arrive. In memory and per process, like
 * JobNotifier; a subscriber that connects late reads history from the database first.
 */
export type JobEvent =
  | { type: "progress"; data: Record<string, unknown> }
  | { type: "log"; data: { sequence: number; stream: string; message: string; created_at: string } }
  | { type: "status"; data: { status: string } };

export class JobEventBus {
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
