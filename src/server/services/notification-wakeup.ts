/**
 * Wakes this process's notification sender when a publish queued something, so a
 * message goes out at once instead of at the sender's next idle tick. In memory, one
 * process: other replicas find new rows on their next pass (notification-sender.ts).
 */
export class NotificationWakeup {
  private waiters = new Set<() => void>();

  notify(): void {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves on notify(), after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
