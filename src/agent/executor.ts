/**
 * Runs one claimed job with the local borg, the same way for every kind: refuses one
 * outside this machine's policy (policy.ts) before anything else, picks the binary for
 * the repository's borg version, asks the kind's module (jobs/index.ts) for the borg
 * command, gives borg its passphrase through the environment only (from the payload, or
 * from this machine's own secrets), streams log lines and progress to `io`, and turns
 * the run into the terminal report by borg/exit.ts's classification:
 *   ok → complete; warning → complete with borg's warnings (the hub records
 *   completed_with_warnings); error → fail with borg's message; a requested cancel →
 *   canceled. A run that finished but whose result the kind can't read from borg's
 *   output fails with "borg finished but its output could not be read: …".
 * Nothing here talks to the hub, and nothing here knows a kind: that is jobs/<kind>.ts.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildBorgEnv } from "../borg/env.ts";
import { featuresFor } from "../borg/features.ts";
import { describeBorgEvent } from "../borg/output.ts";
import { type DetectedBorg, runBorg } from "../borg/run.ts";
import { isSshHostKeyMismatch, pinnedKeysMissing } from "../borg/ssh-failures.ts";
import type { AgentPolicy } from "../shared/config/agent.ts";
import {
  type CanceledRequest,
  type CompleteRequest,
  type FailRequest,
  type JobPayloadUnion,
  UNREADABLE_OUTPUT,
} from "../shared/protocol/agent.ts";
import { parseBorgLocation } from "../shared/protocol/borg-values.ts";
import { parseHostKeys } from "../shared/ssh-host-keys.ts";
import { agentJobKind } from "./jobs/index.ts";
import type { JobIo, JobTools, JobWatch } from "./jobs/kind.ts";
import { pinnedKnownHosts } from "./known-hosts.ts";
import { checkJobPolicy } from "./policy.ts";
import type { AgentPaths } from "./state.ts";

export type { JobIo } from "./jobs/kind.ts";

export type JobOutcome =
  | { kind: "complete"; body: CompleteRequest }
  | { kind: "fail"; body: FailRequest }
  | { kind: "canceled"; body: CanceledRequest };

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

/** known_hosts for this job: the pinned key alone (checked strictly), or the agent's own file. */
async function knownHosts(payload: JobPayloadUnion, paths: AgentPaths) {
  const pinned = pinnedKnownHosts(payload.repository);
  if (pinned === undefined) return { file: paths.knownHosts, strict: "accept-new" as const };
  const file = join(paths.stateDir, `known_hosts.job-${payload.job_id}`);
  await writeFile(file, pinned, { mode: 0o600 });
  return { file, strict: "yes" as const };
}

/**
 * Whether ssh refused the server's host key: ssh's own words when borg passed them on,
 * else, for a connection that closed, the server's offered keys against the pinned ones.
 */
async function hostKeyRefused(payload: JobPayloadUnion, lines: string[]): Promise<boolean> {
  if (isSshHostKeyMismatch(lines)) return true;
  if (!lines.some((line) => line.includes("Connection closed by remote host"))) return false;
  const { repository } = payload;
  const location = parseBorgLocation(repository.location, repository.borg_version);
  const keys = repository.ssh_host_key ? parseHostKeys(repository.ssh_host_key) : undefined;
  if (!location.ok || location.location.kind !== "ssh" || !keys?.ok) return false;
  return (
    (await pinnedKeysMissing(location.location.host, location.location.port, keys.keys)) === true
  );
}

/** The job's failure when ssh refused the server's host key against the pinned ones. */
function hostKeyMismatchMessage(payload: JobPayloadUnion): string {
  const onBox = payload.repository.box_id !== undefined && payload.repository.box_id !== null;
  const whose = onBox
    ? "the storage box's SSH host key does not match the one the hub pinned for this repository"
    : "the SSH server's host key does not match the one pinned on this repository";
  return (
    `${whose} (ssh: Host key verification failed), so nothing was sent. If the key was ` +
    "changed on purpose, set the repository's pinned host key to the new one; otherwise " +
    "something else is answering at that address"
  );
}

export async function executeJob(
  received: JobPayloadUnion,
  io: JobIo,
  signal: AbortSignal,
  deps: ExecutorDeps,
): Promise<JobOutcome> {
  const fail = (message: string, code: number | null = null): JobOutcome => ({
    kind: "fail",
    body: { completed_at: nowIso(deps), error_message: message, return_code: code },
  });
  // Before borg, the prescan or a secret lookup touches anything the hub named.
  const refused = await checkJobPolicy(received, deps.policy ?? {});
  if (refused) return fail(refused.message);
  const kind = agentJobKind(received);
  // What this machine can tell before borg runs (a backup's missing source path, or an
  // optional one to leave out: the run then goes on with the payload the precheck gave).
  const checked = await kind?.precheck?.(received);
  if (checked?.refuse !== undefined) return fail(checked.refuse);
  const payload: JobPayloadUnion = checked?.payload ?? received;
  const precheckWarnings = checked?.warnings ?? [];
  for (const warning of precheckWarnings) io.log("stderr", warning);
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
  let watch: JobWatch = {};
  try {
    const command = kind.command(featuresFor(borg.version), payload);
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
    const features = featuresFor(borg.version);
    const tools: JobTools = {
      features,
      signal,
      now: deps.now ?? Date.now,
      runBorg: (extra, onStdoutLine) =>
        runBorg({
          borgPath: borg.path,
          command: extra,
          env,
          signal,
          ...(onStdoutLine ? { onStdoutLine } : {}),
          onEvent: (event) => {
            const line = describeBorgEvent(event);
            if (line) io.log("stderr", line);
          },
        }),
    };
    watch = (await kind.watch?.(payload, io, deps.now, tools)) ?? {};
    if (signal.aborted) {
      return { kind: "canceled", body: { completed_at: nowIso(deps), return_code: null } };
    }
    if (watch.refuse !== undefined) return fail(watch.refuse);
    const result = await runBorg({
      borgPath: borg.path,
      command,
      env,
      signal,
      captureJson: kind.readsJson,
      ...(watch.onStdoutLine ? { onStdoutLine: watch.onStdoutLine } : {}),
      ...(watch.onStdoutChunk ? { onStdoutChunk: watch.onStdoutChunk } : {}),
      ...(watch.cwd ? { cwd: watch.cwd } : {}),
      onEvent: (event) => {
        if (watch.onEvent?.(event)) return;
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
      const message = result.errorMessage ?? `borg exited with code ${result.exitCode}`;
      if (pinnedHostsFile && (await hostKeyRefused(payload, [...result.stderrTail, message]))) {
        return fail(hostKeyMismatchMessage(payload), result.exitCode);
      }
      return fail(message, result.exitCode);
    }
    // ok or warning: borg did the work, and the kind's result must be readable from it.
    const read = watch.complete ? await watch.complete(result) : kind.result(result, payload);
    if (!read.ok) return fail(`${UNREADABLE_OUTPUT}: ${read.error}`, result.exitCode);
    watch.finished?.();
    const completed: CompleteRequest = {
      completed_at: nowIso(deps),
      result: { return_code: result.exitCode ?? 0, ...read.fields },
    };
    // The warning is reported with its text; a complete with a non-zero code or warnings
    // is how the hub tells completed_with_warnings (it keeps no exit-code table of its own).
    const warnings = [...precheckWarnings];
    if (result.outcome === "warning")
      warnings.push(result.errorMessage ?? "borg finished with warnings");
    if (warnings.length > 0) completed.result.warnings = warnings;
    return { kind: "complete", body: completed };
  } catch (error) {
    // A kind's stdout consumer stops with an error once the job is canceled: a cancel.
    if (signal.aborted) {
      return { kind: "canceled", body: { completed_at: nowIso(deps), return_code: null } };
    }
    return fail((error as Error).message);
  } finally {
    unprotect();
    await watch.cleanup?.().catch(() => {});
    if (pinnedHostsFile) await rm(pinnedHostsFile, { force: true });
  }
}
