/**
 * Downloading one file of an archive through the hub (GET /api/repositories/{id}/archives/
 * {archive}/download?path=…): the user's request queues archive.download on the agent
 * that owns the repository and waits; the agent runs `borg extract --stdout` and uploads
 * the bytes in order (storeDownloadChunk), and each chunk goes straight into the waiting
 * response through this process's DownloadRelay (services/download-relay.ts). The hub
 * stores nothing of the file, in memory beyond about two chunks or anywhere on disk.
 *
 * The file must be in the archive's cached listing (the file browser has it): that is
 * where the hub learns it is a regular file and its size, the response's Content-Length,
 * checked against download_max_bytes before anything is queued (an empty file is answered
 * at once, with no job). The answer waits for the first byte, so a job that fails before
 * it (the agent's policy, a locked repository, a borg error) is a JSON error with the
 * job's reason, not a broken file. A job the agent
 * has not claimed after CLAIM_WAIT_MS (it is busy with another job, or offline) is
 * canceled and answered 503. The browser going away cancels the job.
 *
 * With several replicas an upload may reach a replica other than the one holding the
 * browser's request: when that one has replica_url set it announced its relay
 * (services/download-directory.ts) and the upload is handed on to it, the agent's own
 * request and credential forwarded as they came (one hop); otherwise it is refused (409)
 * and the job fails saying so.
 */
import { AppError } from "../../shared/errors.ts";
import { MAX_DOWNLOAD_CHUNK_BYTES, TERMINAL_JOB_STATUSES } from "../../shared/protocol/agent.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { AgentActor, UserActor } from "./actor.ts";
import { checkArchive, memberOf, splitMemberPath } from "./archive-browse.ts";
import { DownloadRefused, type DownloadRelay } from "./download-relay.ts";
import { renewUploadLease } from "./job-runtime.ts";
import { cancelJob, getJob, queueJobOfKind } from "./jobs.ts";
import { getRepository } from "./repositories.ts";

/** How long a download waits for its agent to take the job before giving up. */
export const CLAIM_WAIT_MS = 30_000;

export interface StartedDownload {
  /** The job that streams it; none for an empty file (nothing to ask borg for). */
  jobId?: number;
  /** The response body: the relay's stream, or null for an empty file. */
  body: ReadableStream<Uint8Array> | null;
  size: number;
  /** The file's name, for Content-Disposition. */
  name: string;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(bytes % 1024 ** 3 ? 1 : 0)} GiB`;

export async function startDownload(
  deps: HubDeps,
  actor: UserActor,
  repositoryId: number,
  archive: string,
  path: string,
  browser: AbortSignal,
): Promise<StartedDownload> {
  checkArchive(archive);
  const member = memberOf(path);
  if (member === "") throw new AppError("validation_failed", "path must name a file, not /");
  const limit = deps.settings.downloadMaxBytes;
  if (limit === 0) {
    throw new AppError(
      "forbidden",
      "downloads through the hub are turned off (download_max_bytes = 0); restore the file onto a machine",
    );
  }
  const repository = await getRepository(deps, repositoryId);
  const listing = await deps.store.archiveListings.forArchive(repository.id, archive);
  if (listing?.status !== "ready") {
    throw new AppError(
      "conflict",
      `archive "${archive}" is not listed on the hub yet: open it in the file browser first (GET …/tree), so the hub knows the file and its size`,
    );
  }
  const { parent, name } = splitMemberPath(member);
  const entry = await deps.store.archiveListings.entry(listing.id, parent, name);
  if (!entry) throw new AppError("not_found", `no "/${member}" in archive "${archive}"`);
  if (entry.type !== "file") {
    throw new AppError(
      "validation_failed",
      `path "/${member}" is a ${entry.type}; only a file can be downloaded (restore folders onto a machine)`,
    );
  }
  if (entry.size > limit) {
    throw new AppError(
      "payload_too_large",
      `"/${member}" is ${gib(entry.size)}, over the hub's download limit of ${gib(limit)} (download_max_bytes); restore it onto a machine instead`,
    );
  }
  if (entry.size === 0) return { body: null, size: 0, name };
  const job = await queueJobOfKind(deps, actor, repository.id, "archive.download", {
    download: { archive, path: member, size: entry.size },
  });
  const cancel = () =>
    cancelJob(deps, actor, job.id).catch(() => {
      // Already over: nothing to stop.
    });
  // The one way the relay learns the job ended: the status event, published on every
  // transition and delivered on every replica (the job may end on another one).
  const unsubscribe = deps.events.subscribe(job.id, (event) => {
    if (event.type === "status" && TERMINAL_JOB_STATUSES.includes(event.data.status as never)) {
      void getJob(deps, job.id).then(
        (ended) => endDownload(deps, ended),
        () => {},
      );
    }
  });
  const replicaUrl = deps.settings.replicaUrl;
  const relay = deps.downloads.create(
    job.id,
    entry.size,
    () => void cancel(),
    () => {
      unsubscribe();
      if (replicaUrl) deps.downloadDirectory.withdraw(job.id);
    },
  );
  if (replicaUrl) deps.downloadDirectory.announce(job.id, replicaUrl);
  // For the whole transfer: Bun aborts the request's signal when the client disconnects,
  // which it does not always tell the response stream. A no-op once the relay ended.
  browser.addEventListener("abort", () => relay.browserLeft(), { once: true });
  try {
    await waitForFirstByte(deps, relay, job.id);
  } catch (error) {
    relay.browserLeft();
    throw error;
  }
  if (relay.failure !== undefined && relay.bytesReceived === 0) {
    const ended = await getJob(deps, job.id);
    throw new AppError("borg_failed", `the download failed: ${relay.failure}`, {
      job_id: job.id,
      status: ended.status,
    });
  }
  return { jobId: job.id, body: relay.stream, size: entry.size, name };
}

/** Until the first byte or the end; a job still queued after CLAIM_WAIT_MS is canceled. */
async function waitForFirstByte(deps: HubDeps, relay: DownloadRelay, jobId: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const claimDeadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), CLAIM_WAIT_MS);
  });
  try {
    if ((await Promise.race([relay.started, claimDeadline])) !== "deadline") return;
    const job = await getJob(deps, jobId);
    if (job.status !== "queued") return relay.started;
    const machine = await deps.store.machines.byId(job.agentMachineId);
    throw new AppError(
      "unavailable",
      `machine "${machine?.name ?? job.agentMachineId}" did not take the download within ${CLAIM_WAIT_MS / 1000} s (${machine?.status === "online" ? "it is busy with another job" : `it is ${machine?.status ?? "gone"}`}); try again later, or restore the file onto a machine`,
      { job_id: jobId },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** What became of a chunk: handed to the browser here, or to be handed on to `url`. */
export type ChunkAnswer = { job: JobRow } | { forwardTo: string };

/**
 * One chunk of an archive.download job's file, from its agent: renews the lease, then
 * hands the bytes to the waiting browser and answers once it has room for more. When
 * the browser waits on another replica that announced itself, the answer says where to
 * hand the request on (not for one already handed on: one hop at most). 409 when the
 * job is not an active download of this agent's, when no known replica holds its
 * browser, or for a chunk out of order.
 */
export async function storeDownloadChunk(
  deps: HubDeps,
  agent: AgentActor,
  jobId: number,
  offset: number,
  bytes: Uint8Array,
  handedOn: boolean,
): Promise<ChunkAnswer> {
  const job = await renewUploadLease(deps, agent, jobId);
  if (job.jobKind !== "archive.download") {
    throw new AppError("conflict", `job ${jobId} is a ${job.jobKind}, which uploads no file`);
  }
  if (bytes.byteLength === 0) throw new AppError("validation_failed", "the chunk is empty");
  if (bytes.byteLength > MAX_DOWNLOAD_CHUNK_BYTES) {
    throw new AppError(
      "payload_too_large",
      `a chunk carries at most ${MAX_DOWNLOAD_CHUNK_BYTES} bytes`,
    );
  }
  let relay = deps.downloads.get(jobId);
  if (!relay && !handedOn) {
    const owner = await announcedOwner(deps, jobId);
    if (owner !== undefined) return { forwardTo: owner };
    relay = deps.downloads.get(jobId);
  }
  if (!relay) {
    throw new AppError(
      "conflict",
      `no browser is waiting for job ${jobId}'s file on this hub (its request is on another hub replica)`,
    );
  }
  try {
    // The browser left: the cancel its relay asked for may not have landed yet, but the
    // agent is to stop now either way.
    if ((await relay.push(offset, bytes)) === "gone") {
      return { job: { ...job, status: "cancel_requested" } };
    }
  } catch (error) {
    if (error instanceof DownloadRefused) throw new AppError("conflict", error.message);
    throw error;
  }
  return { job };
}

/** How long a first chunk may wait for its relay's announcement, which can trail it. */
const ANNOUNCEMENT_GRACE_MS = 2_000;

/** The replica that announced the job's relay; the announcement may still be on its way. */
async function announcedOwner(deps: HubDeps, jobId: number): Promise<string | undefined> {
  const until = Date.now() + ANNOUNCEMENT_GRACE_MS;
  for (;;) {
    const owner = deps.downloadDirectory.ownerOf(jobId);
    if (owner !== undefined || Date.now() >= until || deps.downloads.get(jobId)) return owner;
    await Bun.sleep(50);
  }
}

/** The end of an archive.download job (any status): its browser's stream ends with it. */
function endDownload(deps: HubDeps, job: JobRow): void {
  if (!TERMINAL_JOB_STATUSES.includes(job.status)) return;
  const failure = job.status.startsWith("completed")
    ? undefined
    : (job.errorMessage ?? `the job was ${job.status}`);
  deps.downloads.get(job.id)?.finish(failure);
}
