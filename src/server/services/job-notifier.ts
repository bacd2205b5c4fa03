/**
 * Wakes long-polling agents the moment a job is queued for them. JobNotifier is what the
 * services use (deps.notifier); InMemoryJobNotifier serves one hub process. Hub replicas
 * on one database need a shared signal instead (PostgreSQL LISTEN/NOTIFY), implementing
 * the same interface. Every waiter also re-checks the database when its wait ends, so a
 * missed wake-up costs at most one poll interval, never a lost job.
 */
export interface JobNotifier {
  /** Resolves on notify(agentMachineId) (from any replica), after `ms`, or when `signal` aborts. */
  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Wakes the agent's waiters. Fire and forget: a replica-aware implementation sends the
   * signal in the background, and a lost one only delays the agent until its next poll.
   */
  notify(agentMachineId: number): void;
  /** Wakes every waiter of this process (shutdown). */
  notifyAll(): void;
  /** How many waits this process holds now (shutdown, tests). */
  readonly waiting: number;
}

export class InMemoryJobNotifier implements JobNotifier {
  private readonly waiters = new Map<number, Set<() => void>>();

  wait(agentMachineId: number, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(agentMachineId);
      if (!set) {
        set = new Set();
        this.waiters.set(agentMachineId, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const current = this.waiters.get(agentMachineId);
        current?.delete(done);
        if (current?.size === 0) this.waiters.delete(agentMachineId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  notify(agentMachineId: number): void {
    for (const wake of [...(this.waiters.get(agentMachineId) ?? [])]) wake();
  }

  notifyAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
