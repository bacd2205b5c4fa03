/**
 * Wakes long-polling agents the moment a job is queued for them. In memory, per hub
 * process: a hub with several replicas would need a shared signal (e.g. PostgreSQL
 * LISTEN/NOTIFY); every waiter also re-checks the database when its wait ends, so a
 * missed wake-up costs at most one poll interval, never a lost job.
 */
export class JobNotifier {
  private readonly waiters = new Map<number, Set<() => void>>();

  /** Resolves on notify(agentMachineId), after `ms`, or when `signal` aborts. */
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

  /** Wakes everyone (shutdown). */
  notifyAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
