/**
 * Runs one claimed job with the local borg: refuses one outside this machine's policy
 * (policy.ts) before anything else, picks the binary for the repository's borg
 * version, builds the command in src/borg, gives borg its passphrase through the
 * environment only (from the payload, or from this machine's own secrets), streams log
 * lines and progress to `io`, and maps the result to the terminal report:
 * exit 0 → complete, 1 (or a modern warning code) → complete (the hub records
 * "completed_with_warnings" from the code), ≥ 2 → fail with borg's message, a requested
 * cancel → canceled. Nothing here talks to the hub.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildBreakLockCommand } from "../borg/commands/break-lock.ts";
import { buildCheckCommand } from "../borg/commands/check.ts";
import type { BorgCommand } from "../borg/commands/common.ts";
import { buildCompactCommand } from "../borg/commands/compact.ts";
import { buildCreateCommand } from "../borg/commands/create.ts";
import { buildInfoCommand } from "../borg/commands/info.ts";
import { buildInitCommand } from "../borg/commands/init.ts";
import { buildListCommand } from "../borg/commands/list.ts";
import { buildPruneCommand } from "../borg/commands/prune.ts";
import { buildBorgEnv } from "../borg/env.ts";
import { type BorgFeatures, featuresFor } from "../borg/features.ts";
import { BorgCreateResult, BorgListResult, describeBorgEvent } from "../borg/output.ts";
import { type DetectedBorg, runBorg } from "../borg/run.ts";
import type { AgentPolicy } from "../shared/config/agent.ts";
import type {
  CanceledRequest,
  CompleteRequest,
  FailRequest,
  JobPayload,
  LogEntry,
  ProgressRequest,
} from "../shared/protocol/agent.ts";
import { pinnedKnownHosts } from "./known-hosts.ts";
import { checkJobPolicy } from "./policy.ts";
import { estimateSourceBytes } from "./prescan.ts";
import { ProgressTracker } from "./progress.ts";
import type { AgentPaths } from "./state.ts";

export type JobOutcome =
  | { kind: "complete"; body: CompleteRequest }
  | { kind: "fail"; body: FailRequest }
  | { kind: "canceled"; body: CanceledRequest };

export interface JobIo {
  log(stream: LogEntry["stream"], message: string): void;
  progress(report: ProgressRequest): void;
}

export interface ExecutorDeps {
  borgs: readonly DetectedBorg[];
  paths: AgentPaths;
  /** A passphrase this machine keeps for a repository (agent-held secrets). */
  localPassphrase: (repository: { id: number; name: string }) => Promise<string | undefined>;
  /** Registers a secret for redaction while the job runs; returns the unregister. */
  protect: (secret: string) => () => void;
  /** This machine's own limits (policy.ts); absent: none. */
  policy?: AgentPolicy;
  now?: () => number;
}

const nowIso = (deps: ExecutorDeps) => new Date((deps.now ?? Date.now)()).toISOString();

function buildCommand(features: BorgFeatures, payload: JobPayload): BorgCommand {
  const repo = payload.repository.location;
  switch (payload.job_kind) {
    case "repo.init":
      return buildInitCommand(features, {
        repo,
        encryption: payload.init?.encryption ?? payload.repository.encryption,
        appendOnly: payload.repository.append_only,
        // A local repo's parent folder may not exist yet; on a box it always does.
        makeParentDirs: true,
      });
    case "backup.create": {
      const backup = payload.backup;
      if (!backup) throw new Error("backup job without its backup block");
      return buildCreateCommand(features, {
        repo,
        archive: backup.archive_name,
        paths: backup.source_paths,
        excludes: backup.exclude_patterns,
        compression: backup.compression,
      });
    }
    case "repo.prune": {
      const p = payload.prune;
      if (!p) throw new Error("prune job without its prune block");
      return buildPruneCommand(features, {
        repo,
        keepHourly: p.keep_hourly,
        keepDaily: p.keep_daily,
        keepWeekly: p.keep_weekly,
        keepMonthly: p.keep_monthly,
        keepYearly: p.keep_yearly,
        keepWithin: p.keep_within,
        dryRun: p.dry_run,
        list: true,
      });
    }
    case "repo.compact":
      return buildCompactCommand(features, { repo });
    case "repo.check":
      return buildCheckCommand(features, {
        repo,
        repositoryOnly: payload.check?.repository_only ?? false,
        verifyData: payload.check?.verify_data ?? false,
      });
    case "repo.break_lock":
      return buildBreakLockCommand(features, { repo });
    case "archive.list":
      return buildListCommand(features, { repo });
    case "repo.info":
      return buildInfoCommand(features, { repo });
  }
}

/** known_hosts for this job: the pinned key alone (checked strictly), or the agent's own file. */
async function knownHosts(payload: JobPayload, paths: AgentPaths) {
  const pinned = pinnedKnownHosts(payload.repository);
  if (pinned === undefined) return { file: paths.knownHosts, strict: "accept-new" as const };
  const file = join(paths.stateDir, `known_hosts.job-${payload.job_id}`);
  await writeFile(file, pinned, { mode: 0o600 });
  return { file, strict: "yes" as const };
}

export async function executeJob(
  payload: JobPayload,
  io: JobIo,
  signal: AbortSignal,
  deps: ExecutorDeps,
): Promise<JobOutcome> {
  const fail = (message: string, code: number | null = null): JobOutcome => ({
    kind: "fail",
    body: { completed_at: nowIso(deps), error_message: message, return_code: code },
  });
  // Before borg, the prescan or a secret lookup touches anything the hub named.
  const refused = await checkJobPolicy(payload, deps.policy ?? {});
  if (refused) return fail(refused.message);
  const borg = deps.borgs.find((b) => b.version.major === payload.repository.borg_version);
  if (!borg) {
    return fail(
      `this machine has no borg ${payload.repository.borg_version}.x; found: ${deps.borgs.map((b) => b.version.raw).join(", ") || "none"}`,
    );
  }
  const passphrase =
    payload.secrets.passphrase_location === "hub"
      ? payload.secrets.passphrase
      : await deps.localPassphrase(payload.repository);
  if (
    payload.secrets.passphrase_location === "agent" &&
    !passphrase &&
    payload.repository.encryption !== "none"
  ) {
    return fail(
      `no passphrase for repository "${payload.repository.name}" on this machine: run "borgctl agent secret set ${payload.repository.name}"`,
    );
  }
  const unprotect = passphrase ? deps.protect(passphrase) : () => {};
  let pinnedHostsFile: string | undefined;
  try {
    const features = featuresFor(borg.version);
    const command = buildCommand(features, payload);
    const hosts = await knownHosts(payload, deps.paths);
    if (hosts.strict === "yes") pinnedHostsFile = hosts.file;
    const env = buildBorgEnv({
      passphrase,
      rsh: {
        keyFile: deps.paths.sshKey,
        knownHostsFile: hosts.file,
        strictHostKeyChecking: hosts.strict,
      },
      baseDir: deps.paths.borgBaseDir,
      // The hub is the source of truth for where a repo lives; a moved repo is a decision made there.
      relocatedOk: true,
      unencryptedOk: payload.repository.encryption === "none",
    });
    const expectedBytes =
      payload.job_kind === "backup.create" && payload.backup
        ? await estimateSourceBytes(payload.backup.source_paths)
        : undefined;
    const tracker = new ProgressTracker({ expectedBytes, now: deps.now });
    if (payload.job_kind === "backup.create")
      io.progress({ progress_percent: expectedBytes ? 0 : null, phase: "starting" });
    const result = await runBorg({
      borgPath: borg.path,
      command,
      env,
      signal,
      captureJson: ["backup.create", "archive.list", "repo.info"].includes(payload.job_kind),
      onEvent: (event) => {
        if (event.type === "archive_progress") {
          const report = tracker.update(event);
          if (report) io.progress(report);
          return;
        }
        if (
          event.type === "progress_percent" &&
          typeof event.current === "number" &&
          typeof event.total === "number" &&
          event.total > 0
        ) {
          io.progress({
            progress_percent: Math.min(100, (event.current / event.total) * 100),
            phase: event.message || undefined,
          });
        }
        const line = describeBorgEvent(event);
        if (line) io.log("stderr", line);
      },
    });
    if (result.outcome === "canceled") {
      return {
        kind: "canceled",
        body: { completed_at: nowIso(deps), return_code: result.exitCode },
      };
    }
    if (result.outcome === "error") {
      return fail(
        result.errorMessage ?? `borg exited with code ${result.exitCode}`,
        result.exitCode,
      );
    }
    const completed: CompleteRequest = {
      completed_at: nowIso(deps),
      result: { return_code: result.exitCode ?? 0 },
    };
    if (payload.job_kind === "backup.create") {
      const parsed = BorgCreateResult.safeParse(result.json);
      if (parsed.success) {
        const { archive } = parsed.data;
        completed.result.archive_name = archive.name;
        const stats = archive.stats;
        completed.result.stats = {
          original_size: stats.original_size,
          compressed_size: stats.compressed_size ?? 0,
          deduplicated_size: stats.deduplicated_size,
          nfiles: stats.nfiles,
        };
      }
      io.progress({
        ...tracker.current(),
        progress_percent: 100,
        estimated_time_remaining: 0,
        current_file: null,
        phase: "done",
      });
    }
    if (payload.job_kind === "archive.list") {
      const parsed = BorgListResult.safeParse(result.json);
      if (parsed.success) completed.result.archives = parsed.data.archives;
    }
    if (result.outcome === "warning")
      completed.result.warnings = [result.errorMessage ?? "borg finished with warnings"];
    return completed.result.return_code === 0 || result.outcome === "warning"
      ? { kind: "complete", body: completed }
      : fail(`borg exited with code ${result.exitCode}`, result.exitCode);
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    unprotect();
    if (pinnedHostsFile) await rm(pinnedHostsFile, { force: true });
  }
}
