/**
 * Composition root of `borgctl box`: builds every dependency from the validated config,
 * serves the HTTP API, and on SIGTERM/SIGINT stops taking requests, cancels running
 * jobs, and exits.
 */
import { featuresFor } from "../borg/features.ts";
import { detectBorg } from "../borg/run.ts";
import { buildInfo } from "../shared/build-info.ts";
import { displayUrl } from "../shared/config/addr.ts";
import type { BoxConfig } from "../shared/config/box.ts";
import { FailureThrottle } from "../shared/failure-throttle.ts";
import { stopOnSignals } from "../shared/lifecycle.ts";
import type { Logger } from "../shared/log.ts";
import { currentUserName } from "../shared/user.ts";
import { AuthorizedKeysFile } from "./authorized-keys.ts";
import { hostKeyPatterns, hostKeyReader } from "./host-keys.ts";
import { createBoxApp } from "./http.ts";
import { JobRegistry } from "./jobs.ts";
import { Maintenance } from "./maintenance.ts";
import { renderBoxMetrics } from "./metrics.ts";
import { RepoFactsCache } from "./repo-facts-cache.ts";
import { RepoService } from "./repo-service.ts";
import { listBorgSessions, repoHasLiveSession } from "./sessions.ts";
import { readDiskSpace, readSystemStats } from "./system-stats.ts";

export interface RunningBox {
  url: string;
  stop(): Promise<void>;
  /** Resolves once the box has stopped (signal or stop()). */
  stopped: Promise<void>;
}

export async function startBox(config: BoxConfig, deps: { logger: Logger }): Promise<RunningBox> {
  const { logger } = deps;
  const startedAt = Date.now();
  const root = config.repo_root;
  const borg = await detectBorg(config.borg_path);
  if (!borg) {
    logger.warn(`borg not found at "${config.borg_path}": archives and maintenance jobs will fail`);
  }
  const version = buildInfo().version;
  const jobs = new JobRegistry({
    onFinished: (job) =>
      logger.info("job finished", {
        job: job.id,
        repo: job.repo,
        kind: job.kind,
        status: job.status,
        exit_code: job.exit_code,
      }),
  });
  const facts = new RepoFactsCache({ root, logger: logger.child("facts") });
  const sessionOptions = { root };
  const user = currentUserName();
  const repos = new RepoService({
    root,
    authorizedKeys: new AuthorizedKeysFile(config.auth_keys),
    facts,
    jobs,
    hasLiveSession: (name) => repoHasLiveSession(sessionOptions, name),
    sshUrl: config.ssh_host ? (path) => `ssh://${user}@${config.ssh_host}${path}` : undefined,
    logger,
  });
  const maintenance = new Maintenance({
    root,
    borgPath: config.borg_path,
    features: borg ? featuresFor(borg.version) : undefined,
    jobs,
    repos,
    logger,
  });
  const readHostKeys = hostKeyReader(hostKeyPatterns(config.ssh_host_keys), logger);
  const uptimeSec = () => Math.floor((Date.now() - startedAt) / 1000);

  const app = createBoxApp({
    token: config.token,
    logger,
    repos,
    jobs,
    maintenance,
    throttle: new FailureThrottle(),
    info: async () => {
      const disk = await readDiskSpace(root);
      return {
        version,
        repo_root: root,
        free_bytes: disk.free_bytes,
        total_bytes: disk.total_bytes,
        uptime_sec: uptimeSec(),
        borg_version: borg?.version.raw ?? "",
        runtime_version: buildInfo().runtime,
        ssh_host_keys: await readHostKeys(),
      };
    },
    systemStats: async () => ({ ...(await readSystemStats(root)), borgbox_version: version }),
    sessions: () => listBorgSessions(sessionOptions),
    metrics: async () => {
      const [repoFacts, sessions, disk] = await Promise.all([
        facts.list(),
        listBorgSessions(sessionOptions),
        readDiskSpace(root),
      ]);
      return renderBoxMetrics({
        repos: repoFacts,
        jobs: jobs.list(),
        sessions: sessions.length,
        freeBytes: disk.free_bytes,
        totalBytes: disk.total_bytes,
        uptimeSeconds: uptimeSec(),
      });
    },
  });

  facts.start();
  const server = Bun.serve({
    hostname: config.addr.hostname,
    port: config.addr.port,
    fetch: (request, srv) => app.fetch(request, { ip: srv.requestIP(request)?.address }),
    // Job streams (SSE) send a keep-alive comment every 15 s, well inside this.
    idleTimeout: 60,
  });
  const url = displayUrl({ hostname: config.addr.hostname, port: server.port ?? config.addr.port });
  logger.info(`listening on ${url}/api/v1`, {
    repo_root: root,
    auth_keys: config.auth_keys,
    borg: borg ? `${borg.version.raw} (${borg.path})` : "not found",
  });

  const { stop, stopped } = stopOnSignals(logger, async () => {
    facts.stop();
    // Stop listening first, then end the jobs; open streams end with their jobs.
    const closing = server.stop(true);
    await jobs.stopAll();
    await closing;
  });
  return { url, stop, stopped };
}
