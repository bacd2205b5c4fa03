/**
 * Lending a machine's SSH key on a storage box for one job: a cross-machine restore, where
 * the target machine reads a repository that another machine owns. The box holds the key
 * on its own tagged line (`# borgbox-lent:<repo>:<tag>`, POST /api/v1/repos/{name}/keys),
 * restricted to that repo like the owner's line, append-only when the repo is.
 *
 * Lifecycle of one lent key:
 *   1. a `lent_box_keys` row is stored (no job yet), then the box adds the line;
 *   2. the job is queued for the target machine and the row names it (attachJob). The job
 *      is queued only after the line exists, so the agent never claims it too early;
 *   3. when the job reaches a terminal status, whoever ended it (the agent, a user's cancel,
 *      the lease sweep), archive-extract's `transitioned` returns the key: the box removes
 *      the line (404 = already gone), then the row goes;
 *   4. `sweepLentKeys` (every 15 s, and so right after a restart) returns every key whose
 *      job is terminal or gone, and rows never attached to a job after ORPHAN_MS (a hub that
 *      died between 1 and 2). A box that cannot be reached keeps its row, so the next sweep
 *      tries again; nothing is forgotten while the line may still exist.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../../shared/errors.ts";
import { parseSshPublicKey } from "../../shared/ssh-key.ts";
import type { JobRow, LentBoxKeyRow, MachineRow, RepositoryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { type Actor, SYSTEM } from "./actor.ts";
import { audit } from "./audit.ts";
import { BoxCallError } from "./box-client.ts";
import { boxRepoNameOf } from "./box-repositories.ts";
import { clientForBox, getBox } from "./boxes.ts";

/** A row with no job this long after its lend is an orphan of a hub that died mid-way. */
export const ORPHAN_MS = 10 * 60_000;
const SWEEP_BATCH = 100;

const reasonOf = (error: unknown) =>
  error instanceof BoxCallError || error instanceof AppError ? error.message : String(error);

/**
 * Lends `target`'s key on the repository's box, then runs `queue` (which queues the job on
 * the target) and ties the key to that job. Any failure takes the key back before it throws.
 */
export async function withLentKey(
  deps: HubDeps,
  actor: Actor,
  repository: RepositoryRow,
  target: MachineRow,
  queue: () => Promise<JobRow>,
): Promise<JobRow> {
  if (repository.boxId === null) throw new Error("withLentKey needs a box repository");
  const box = await getBox(deps, repository.boxId);
  // sshd lets a key in through the first authorized_keys line that holds it: a machine
  // that owns a repo on this box would be let into that one, never into the lent one.
  const own = (await deps.store.repositories.list()).find(
    (r) => r.boxId === box.id && r.agentMachineId === target.id,
  );
  if (own) {
    throw new AppError(
      "conflict",
      `machine "${target.name}" backs up to repository "${own.name}" on box "${box.name}", and a box lets one machine key into one repo: ` +
        `its key cannot be lent for "${repository.name}" on the same box. Restore onto a machine without a repository on box "${box.name}", or restore on "${repository.name}"'s own machine and copy the files`,
    );
  }
  const pubkey = target.sshPublicKey ? parseSshPublicKey(target.sshPublicKey) : undefined;
  if (!pubkey?.ok) {
    throw new AppError(
      "conflict",
      `machine "${target.name}" has not reported a usable SSH public key yet (its agent sends one when it registers): the box could not let it in`,
    );
  }
  const repoName = boxRepoNameOf(repository);
  const tag = `restore-${randomBytes(6).toString("hex")}`;
  const row = await deps.store.lentBoxKeys.insert({ boxId: box.id, repoName, tag }, deps.clock());
  const client = await clientForBox(deps, box);
  try {
    await client.lendKey(repoName, { tag, pubkey: `${pubkey.key.type} ${pubkey.key.base64}` });
  } catch (error) {
    await deps.store.lentBoxKeys.remove(row.id);
    throw new AppError(
      "conflict",
      `lending machine "${target.name}"'s key for repo "${repoName}" on box "${box.name}" failed: ${reasonOf(error)}; nothing was queued`,
    );
  }
  let job: JobRow;
  try {
    job = await queue();
  } catch (error) {
    await returnLentKey(deps, row);
    throw error;
  }
  await deps.store.lentBoxKeys.attachJob(row.id, job.id);
  await audit(deps, {
    actor,
    action: "box.key_lent",
    target: `box:${box.id}`,
    details: { repo: repoName, tag, agent_machine_id: target.id, job_id: job.id },
  });
  return job;
}

/** Returns the keys lent for a job (called when it ended); failures are left to the sweep. */
export async function returnKeysOfJob(deps: HubDeps, jobId: number): Promise<void> {
  for (const row of await deps.store.lentBoxKeys.forJob(jobId)) await returnLentKey(deps, row);
}

/** Returns every lent key whose job is over (or that never got one). */
export async function sweepLentKeys(deps: HubDeps): Promise<void> {
  const due = await deps.store.lentBoxKeys.due(deps.clock() - ORPHAN_MS, SWEEP_BATCH);
  for (const row of due) await returnLentKey(deps, row);
}

/** Box first, then the row; false (row kept for the next sweep) when the box failed. */
async function returnLentKey(deps: HubDeps, row: LentBoxKeyRow): Promise<boolean> {
  const box = await deps.store.boxes.byId(row.boxId);
  if (box) {
    try {
      await (await clientForBox(deps, box)).returnKey(row.repoName, row.tag);
    } catch (error) {
      if (!(error instanceof BoxCallError && error.status === 404)) {
        deps.logger.child("lent-keys").warn("returning a lent key failed; the sweep tries again", {
          box: row.boxId,
          repo: row.repoName,
          tag: row.tag,
          error: reasonOf(error),
        });
        return false;
      }
    }
  }
  await deps.store.lentBoxKeys.remove(row.id);
  await audit(deps, {
    actor: SYSTEM,
    action: "box.key_returned",
    target: `box:${row.boxId}`,
    details: { repo: row.repoName, tag: row.tag, job_id: row.jobId },
  });
  return true;
}
