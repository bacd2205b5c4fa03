/**
 * Restoring from the hub (POST /api/repositories/{id}/restore → archive.extract on the
 * agent that owns the repository). Every value that reaches borg's argv is parsed here
 * with shared/protocol/borg-values.ts (a 400 naming the field) and again by the agent.
 *
 * Restoring onto another machine needs a repository that machine can reach with its own
 * key: a repository on a storage box the hub manages, where the hub can register the
 * target's key for the job's duration. Until box repositories are in the hub, a
 * target_machine_id other than the owner is refused with a 400 that says so (not built yet).
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
  if (
    request.target_machine_id !== undefined &&
    request.target_machine_id !== repository.agentMachineId
  ) {
    invalid(
      `target_machine_id: restoring onto another machine is not supported yet (it will lend that machine's key on a storage box repository for the job); repository "${repository.name}" is reached only by its own machine, so restore there and copy the files`,
    );
  }
  return queueJobOfKind(deps, actor, repository.id, "archive.extract", {
    restore: {
      archive: request.archive,
      paths,
      destination: request.destination,
      overwrite: request.overwrite ?? false,
      dry_run: request.dry_run ?? false,
    },
  });
}
