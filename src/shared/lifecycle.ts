/**
 * How a long-running role stops: once, whether asked by SIGTERM/SIGINT or by stop().
 * The composition root passes its own shutdown steps; this owns the signal handlers,
 * runs the steps exactly once, and resolves `stopped` when they are done.
 */
import type { Logger } from "./log.ts";

export interface Stoppable {
  stop(): Promise<void>;
  stopped: Promise<void>;
}

export function stopOnSignals(logger: Logger, shutdown: () => Promise<void>): Stoppable {
  const { promise: stopped, resolve } = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info(`received ${signal}, stopping`);
    void stop();
  };
  const stop = () => {
    stopping ??= (async () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      await shutdown();
      logger.info("stopped");
      resolve();
    })();
    return stopping;
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { stop, stopped };
}
