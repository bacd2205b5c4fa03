/**
 * Composition root of `borgctl box`: builds the dependencies from the validated config,
 * serves the HTTP API, and stops cleanly on SIGTERM/SIGINT.
 */
import { displayUrl } from "../shared/config/addr.ts";
import type { BoxConfig } from "../shared/config/box.ts";
import type { Logger } from "../shared/log.ts";
import { createBoxApp } from "./http.ts";

export interface RunningBox {
  url: string;
  stop(): Promise<void>;
  /** Resolves once the box has stopped (signal or stop()). */
  stopped: Promise<void>;
}

export async function startBox(config: BoxConfig, deps: { logger: Logger }): Promise<RunningBox> {
  const { logger } = deps;
  const startedAt = Date.now();
  const app = createBoxApp({ config, logger, startedAt });
  const server = Bun.serve({
    hostname: config.addr.hostname,
    port: config.addr.port,
    fetch: app.fetch,
    // SSE job streams stay open; they send keep-alive comments well within this.
    idleTimeout: 60,
  });
  const url = displayUrl({ hostname: config.addr.hostname, port: server.port ?? config.addr.port });
  logger.info(`listening on ${url}/api/v1`, {
    repo_root: config.repo_root,
    auth_keys: config.auth_keys,
  });

  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      await server.stop(true);
      logger.info("stopped");
      resolveStopped();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info(`received ${signal}, stopping`);
    void stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { url, stop, stopped };
}
