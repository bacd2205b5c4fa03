/**
 * Restoring from the hub (POST /api/repositories/{id}/restore → archive.extract on the
 * agent that owns the repository). Every value that reaches borg's argv is parsed here
 * with shared/protocol/borg-values.ts (a 400 naming the field) and again by the agent.
 *
 * Restoring onto another machine (target_machine_id) needs a repository that machine can
 * reach with its own key: a repository on a storage box the hub manages, where the hub
 * lends the target's key for the job's duration (services/lent-box-keys.ts) and queues
 * archive.extract on the target, with the repository's location, pinned host keys and
 * (when the hub keeps it) passphrase. Any other repository is refused with a 400 that says
 * why: the hub cannot grant another machine access to a server it does not manage.
 */
import { AppError } from "../../shared/errors.ts";
import { MAX_RESTORE_PATHS } from "../../shared/protocol/agent.ts";
import type { RestoreRequest } from "../../shared/protocol/api.ts";
import {
  absolutePathProblem,
  archiveMemberPath,
  archiveNameProblem,
  archivePathProblem,
} from "../../shared/protocol/borg-values.ts";
import type { JobRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { UserActor } from "./actor.ts";
import { queueJobOfKind } from "./jobs.ts";
import { withLentKey } from "./lent-box-keys.ts";
import { getRepository } from "./repositories.ts";

const invalid = (message: string): never => {
  throw new AppError("validation_failed", message);
};

export async function queueRestore(
  deps: HubDeps,
  actor: UserActor,
  repositoryId: number,
  request: RestoreRequest,
): Promise<JobRow> {
  const archiveProblem = archiveNameProblem(request.archive);
  if (archiveProblem) invalid(`archive ${archiveProblem}`);
  const destinationProblem = absolutePathProblem(request.destination);
  if (destinationProblem) invalid(`destination ${destinationProblem}`);
  if (request.paths.length > MAX_RESTORE_PATHS) invalid(`paths: at most ${MAX_RESTORE_PATHS}`);
  const paths = request.paths.map((path, i) => {
    const problem = archivePathProblem(path);
    if (problem) invalid(`paths[${i}] ${problem}`);
    return archiveMemberPath(path);
  });
  const repository = await getRepository(deps, repositoryId);
  const restore = {
    archive: request.archive,
    paths,
    destination: request.destination,
    overwrite: request.overwrite ?? false,
    dry_run: request.dry_run ?? false,
  };
  const targetId = request.target_machine_id;
  if (targetId === undefined || targetId === repository.agentMachineId) {
    return queueJobOfKind(deps, actor, repository.id, "archive.extract", { restore });
  }
  if (repository.boxId === null) {
    invalid(
      `target_machine_id: repository "${repository.name}" is not on a storage box the hub manages, so the hub cannot let another machine read it (it lends the target machine's key on a box for the job); restore on its own machine and copy the files`,
    );
  }
  const target = await deps.store.machines.byId(targetId);
  if (!target) throw new AppError("validation_failed", `target_machine_id: no machine ${targetId}`);
  if (target.status !== "online") {
    throw new AppError(
      "conflict",
      `machine "${target.name}" is ${target.status}: a restore onto it lends its key on the box only while the job runs, so it must be online to take the job now`,
    );
  }
  return withLentKey(deps, actor, repository, target, () =>
    queueJobOfKind(deps, actor, repository.id, "archive.extract", { restore }, target.id),
  );
}
