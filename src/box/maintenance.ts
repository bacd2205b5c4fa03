/**
 * Box-side borg work on one repo: archives listing and break-lock (synchronous), and
 * check/prune/compact as jobs in the registry. A passphrase arrives per request, goes to
 * borg through its environment only, is registered with the log redactor for exactly the
 * time it is in use, and is never stored.
 *
 * The box is the repo's host, not a client: it reaches repos by their local path, so
 * borg's "relocated" and "unknown unencrypted" guards (meant for clients) are answered yes.
 */
import { buildBreakLockCommand } from "../borg/commands/break-lock.ts";
import { buildCheckCommand } from "../borg/commands/check.ts";
import type { BorgCommand } from "../borg/commands/common.ts";
import { buildCompactCommand } from "../borg/commands/compact.ts";
import { buildListCommand } from "../borg/commands/list.ts";
import { buildPruneCommand } from "../borg/commands/prune.ts";
import { buildBorgEnv } from "../borg/env.ts";
import type { BorgFeatures } from "../borg/features.ts";
import { BorgListResult, type BorgLogEvent, describeBorgEvent } from "../borg/output.ts";
import { type BorgRunResult, runBorg } from "../borg/run.ts";
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { CheckRequest, CompactRequest, PruneRequest } from "../shared/protocol/box.ts";
import type { BoxJob, JobContext, JobKind, JobRegistry } from "./jobs.ts";
import { resolveRepoPath } from "./repo-names.ts";
import type { RepoService } from "./repo-service.ts";
import { readRepoFacts } from "./repos.ts";

export interface MaintenanceDeps {
  root: string;
  borgPath: string;
  /** Detected once at start; undefined when no borg binary was found. */
  features: BorgFeatures | undefined;
  jobs: JobRegistry;
  repos: RepoService;
  logger: Logger;
}

export class Maintenance {
  constructor(private readonly deps: MaintenanceDeps) {}

  async listArchives(name: string, passphrase?: string): Promise<unknown[]> {
    const path = await this.existingRepo(name);
    const features = this.features();
    const result = await this.run(buildListCommand(features, { repo: path }), passphrase, {
      captureJson: true,
    });
    this.assertOk(result, "borg list");
    const parsed = BorgListResult.safeParse(result.json);
    if (!parsed.success) throw new AppError("borg_failed", "borg list returned no archive list");
    return parsed.data.archives;
  }

  /** Synchronous; refused while a job or a client session uses the repo. */
  async breakLock(name: string): Promise<void> {
    const path = await this.existingRepo(name);
    await this.deps.repos.assertIdle(name, "unlocked");
    const result = await this.run(buildBreakLockCommand(this.features(), { repo: path }));
    this.assertOk(result, "borg break-lock");
    this.deps.logger.info("lock broken", { repo: name });
  }

  async startCheck(name: string, request: CheckRequest): Promise<BoxJob> {
    const path = await this.existingRepo(name);
    // Without a passphrase only the repository part can be checked (BORG.md).
    const command = buildCheckCommand(this.features(), {
      repo: path,
      repositoryOnly: request.passphrase === undefined && !request.verify_data,
      verifyData: request.verify_data ?? false,
      repair: request.repair ?? false,
    });
    return this.startJob(name, "check", false, command, request.passphrase);
  }

  async startPrune(name: string, request: PruneRequest): Promise<BoxJob> {
    const path = await this.existingRepo(name);
    const command = buildPruneCommand(this.features(), {
      repo: path,
      keepHourly: request.keep_hourly,
      keepDaily: request.keep_daily,
      keepWeekly: request.keep_weekly,
      keepMonthly: request.keep_monthly,
      keepYearly: request.keep_yearly,
      keepWithin: request.keep_within,
      dryRun: request.dry_run ?? false,
      list: true,
    });
    return this.startJob(name, "prune", request.dry_run ?? false, command, request.passphrase);
  }

  async startCompact(name: string, request: CompactRequest): Promise<BoxJob> {
    const path = await this.existingRepo(name);
    const command = buildCompactCommand(this.features(), { repo: path });
    return this.startJob(name, "compact", false, command, request.passphrase);
  }

  private startJob(
    name: string,
    kind: JobKind,
    dryRun: boolean,
    command: BorgCommand,
    passphrase: string | undefined,
  ): BoxJob {
    const job = this.deps.jobs.start(name, kind, dryRun, async (ctx: JobContext) => {
      const result = await this.run(command, passphrase, {
        signal: ctx.signal,
        onEvent: (event) => {
          const line = describeBorgEvent(event);
          if (line) ctx.log(this.deps.logger.redactor.redact(line));
        },
      });
      if (result.outcome === "error" && result.errorMessage) {
        ctx.log(this.deps.logger.redactor.redact(result.errorMessage));
      }
      return {
        exitCode: result.exitCode ?? -1,
        ok: result.outcome === "ok" || result.outcome === "warning",
      };
    });
    this.deps.logger.info("job started", { job: job.id, repo: name, kind, dry_run: dryRun });
    return job;
  }

  private async run(
    command: BorgCommand,
    passphrase?: string,
    options: {
      signal?: AbortSignal;
      onEvent?: (event: BorgLogEvent) => void;
      captureJson?: boolean;
    } = {},
  ): Promise<BorgRunResult> {
    const redactor = this.deps.logger.redactor;
    redactor.add(passphrase);
    try {
      return await runBorg({
        borgPath: this.deps.borgPath,
        command,
        env: buildBorgEnv({ passphrase, relocatedOk: true, unencryptedOk: true }),
        ...options,
      });
    } finally {
      redactor.remove(passphrase);
    }
  }

  private assertOk(result: BorgRunResult, what: string): void {
    if (result.outcome === "ok" || result.outcome === "warning") return;
    const reason = this.deps.logger.redactor.redact(
      result.errorMessage ?? result.stderrTail.at(-1) ?? `exit code ${result.exitCode}`,
    );
    throw new AppError("borg_failed", `${what} failed: ${reason}`);
  }

  private features(): BorgFeatures {
    if (!this.deps.features) {
      throw new AppError(
        "borg_failed",
        `borg is not available on this box (looked for "${this.deps.borgPath}")`,
      );
    }
    return this.deps.features;
  }

  private async existingRepo(name: string): Promise<string> {
    const path = resolveRepoPath(this.deps.root, name);
    await readRepoFacts(this.deps.root, name);
    return path;
  }
}
