/**
 * Repository records: create, update, delete, read. A passphrase held by the hub is
 * stored only as SecretBox ciphertext and is never returned: rows say `hasPassphrase`.
 * A repository on a storage box (`box_id`) is created in steps — the repo on the box
 * (box-repositories.ts), the record, the repo.init job — and a failed step undoes the
 * ones before it, so neither an orphan box repo nor an orphan record is left behind.
 */
import { AppError } from "../../shared/errors.ts";
import type { CreateRepositoryRequest } from "../../shared/protocol/api.ts";
import { formatBorgLocation, parseBorgLocation } from "../../shared/protocol/borg-values.ts";
import {
  ACTIVE_JOB_STATUSES,
  type JobRow,
  type RepositoryPatch,
  type RepositoryRow,
} from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import type { UserActor } from "./actor.ts";
import { audit } from "./audit.ts";
import { type BoxPlacement, placeOnBox, purgeBoxRepo } from "./box-repositories.ts";
import { sweepFreshness } from "./freshness.ts";
import { queueRepositoryJob } from "./jobs.ts";
import {
  assertMayPatch,
  checkArchiveTemplate,
  checkCompression,
  checkExcludePatterns,
  checkHostKeys,
  checkLocation,
  checkOptionalSourcePaths,
  checkPassphraseRules,
  checkSourcePaths,
} from "./repository-rules.ts";

export interface RepositoryUpdate {
  name?: string;
  passphrase?: string;
  source_paths?: string[];
  optional_source_paths?: string[];
  exclude_patterns?: string[];
  compression?: string;
  archive_name?: string;
  ssh_host_key?: string | null;
  expected_interval_seconds?: number | null;
  overdue_factor?: number;
}

export async function getRepository(deps: HubDeps, id: number): Promise<RepositoryRow> {
  const repository = await deps.store.repositories.byId(id);
  if (!repository) throw new AppError("not_found", `no repository ${id}`);
  return repository;
}

export const listRepositories = (deps: HubDeps): Promise<RepositoryRow[]> =>
  deps.store.repositories.list();

/** One repository and its most recent job (any kind), as GET /api/repositories/{id} shows it. */
export async function repositoryWithLastJob(
  deps: HubDeps,
  id: number,
): Promise<{ repository: RepositoryRow; lastJob: JobRow | undefined }> {
  const repository = await getRepository(deps, id);
  const lastJob = await deps.store.jobs.latestForRepository(repository.id);
  return { repository, lastJob };
}

/**
 * Two records for one borg repository on one machine would run concurrent jobs against
 * it and show two histories of the same archives: refuse, naming the other record.
 * Locations are compared in their parsed, canonical form (no trailing "/").
 */
async function refuseSharedLocation(
  deps: HubDeps,
  machineId: number,
  location: string,
  borgVersion: 1 | 2,
): Promise<void> {
  const canonical = (text: string, version: 1 | 2) => {
    const parsed = parseBorgLocation(text, version);
    return (parsed.ok ? formatBorgLocation(parsed.location) : text).replace(/(.)\/+$/, "$1");
  };
  const wanted = canonical(location, borgVersion);
  const other = (await deps.store.repositories.list()).find(
    (r) => r.agentMachineId === machineId && canonical(r.location, r.borgVersion) === wanted,
  );
  if (other) {
    throw new AppError(
      "conflict",
      `repository "${other.name}" (id ${other.id}) already uses ${location} on this machine`,
      { repository_id: other.id },
    );
  }
}

export async function createRepository(
  deps: HubDeps,
  actor: UserActor,
  request: CreateRepositoryRequest,
): Promise<{ repository: RepositoryRow; initJobId?: number }> {
  if (request.box_id !== undefined && request.location !== undefined) {
    throw new AppError(
      "validation_failed",
      "location: give either a location or a box_id (the hub derives a box repository's location), not both",
      { field: "location" },
    );
  }
  if (request.box_repo !== undefined && request.box_id === undefined) {
    throw new AppError("validation_failed", "box_repo: names a repo on a box: give box_id too", {
      field: "box_repo",
    });
  }
  if (request.box_id === undefined && request.location === undefined) {
    throw new AppError("validation_failed", "give the repository's location (or a box_id)");
  }
  if (request.location !== undefined) checkLocation(request.location, request.borg_version);
  checkSourcePaths(request.source_paths);
  checkOptionalSourcePaths(request.optional_source_paths, request.source_paths);
  checkArchiveTemplate(request.archive_name);
  checkExcludePatterns(request.exclude_patterns);
  checkCompression(request.compression);
  checkPassphraseRules({
    encryption: request.encryption,
    passphraseLocation: request.passphrase_location,
    passphrase: request.passphrase,
  });
  const sshHostKey =
    request.ssh_host_key === undefined ? null : checkHostKeys(request.ssh_host_key);
  if (request.box_id !== undefined && request.ssh_host_key !== undefined) {
    throw new AppError(
      "validation_failed",
      "ssh_host_key: a repository on a box pins the box's own host keys",
      { field: "ssh_host_key" },
    );
  }
  const machine = await deps.store.machines.byId(request.agent_machine_id);
  if (!machine) throw new AppError("not_found", `no machine ${request.agent_machine_id}`);
  if (machine.status === "revoked") {
    throw new AppError("conflict", `machine "${machine.name}" is revoked`);
  }
  if (request.location !== undefined) {
    await refuseSharedLocation(deps, machine.id, request.location, request.borg_version);
  }
  if ((await deps.store.repositories.list()).some((r) => r.name === request.name)) {
    throw new AppError("conflict", `a repository named "${request.name}" exists`);
  }

  // Step 1 (box repositories): the repo on the box, with the machine's key.
  const placement: BoxPlacement | undefined =
    request.box_id === undefined
      ? undefined
      : await placeOnBox(
          deps,
          {
            box_id: request.box_id,
            name: request.name,
            append_only: request.append_only,
            passphrase_location: request.passphrase_location,
            borg_version: request.borg_version,
            box_repo: request.box_repo,
          },
          machine,
        );
  const undoBox = async (what: string): Promise<string> => {
    if (!placement) return what;
    const undone = await placement.undo();
    return `${what}; ${undone ?? `repo "${placement.boxRepoName}" was removed from box "${placement.box.name}" again`}`;
  };

  // Step 2: the record.
  let created: RepositoryRow | undefined;
  try {
    created = await deps.store.repositories.insert({
      name: request.name,
      agentMachineId: machine.id,
      location: placement?.location ?? (request.location as string),
      boxId: placement?.box.id ?? null,
      borgVersion: request.borg_version,
      encryption: request.encryption,
      passphraseEncrypted:
        request.passphrase === undefined ? null : deps.secretBox.encrypt(request.passphrase),
      passphraseLocation: request.passphrase_location,
      sourcePaths: request.source_paths,
      optionalSourcePaths: request.optional_source_paths,
      excludePatterns: request.exclude_patterns,
      compression: request.compression,
      archiveName: request.archive_name,
      appendOnly: request.append_only,
      sshHostKey: placement?.sshHostKey ?? sshHostKey,
      expectedIntervalSeconds: request.expected_interval_seconds ?? null,
      overdueFactor: request.overdue_factor,
    });
  } catch (error) {
    deps.logger.error("storing a repository failed", { error: (error as Error).message });
    throw new AppError("internal", await undoBox("storing the repository record failed"));
  }
  if (!created) {
    throw new AppError(
      "conflict",
      await undoBox(`storing the repository failed: a repository named "${request.name}" exists`),
    );
  }
  await audit(deps, {
    actor,
    action: "repository.create",
    target: `repository:${created.id}`,
    details: {
      name: created.name,
      agent_machine_id: created.agentMachineId,
      encryption: created.encryption,
      passphrase_location: created.passphraseLocation,
      box_id: created.boxId ?? undefined,
      append_only: created.appendOnly,
    },
  });

  // Step 3: repo.init, by default for a new box repository (its directory waits for it).
  if (!(request.init ?? (placement !== undefined && !placement.imported))) {
    return { repository: created };
  }
  try {
    const job = await queueRepositoryJob(deps, actor, created.id, "init");
    return { repository: created, initJobId: job.id };
  } catch (error) {
    const reason = error instanceof AppError ? error.message : "unexpected failure";
    if (!(error instanceof AppError)) {
      deps.logger.error("queueing repo.init failed", { error: (error as Error).message });
    }
    const removed = await deps.store.repositories.removeIfIdle(created.id);
    const what = `queueing repo.init failed: ${reason}; ${removed ? "the repository record was removed again" : "the repository record stays"}`;
    throw new AppError(error instanceof AppError ? error.code : "internal", await undoBox(what));
  }
}

export async function updateRepository(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  request: RepositoryUpdate,
): Promise<RepositoryRow> {
  // Before the repository is looked up: a refused PATCH changes nothing and tells nothing.
  assertMayPatch(actor.role, request);
  const current = await getRepository(deps, id);
  if (request.source_paths !== undefined) checkSourcePaths(request.source_paths);
  if (request.optional_source_paths !== undefined || request.source_paths !== undefined) {
    checkOptionalSourcePaths(
      request.optional_source_paths ?? current.optionalSourcePaths,
      request.source_paths ?? current.sourcePaths,
    );
  }
  if (request.archive_name !== undefined) checkArchiveTemplate(request.archive_name);
  if (request.exclude_patterns !== undefined) checkExcludePatterns(request.exclude_patterns);
  if (request.compression !== undefined) checkCompression(request.compression);
  if (request.passphrase !== undefined) {
    checkPassphraseRules({
      encryption: current.encryption,
      passphraseLocation: current.passphraseLocation,
      passphrase: request.passphrase,
    });
  }
  const patch: RepositoryPatch = {
    name: request.name,
    sourcePaths: request.source_paths,
    optionalSourcePaths: request.optional_source_paths,
    excludePatterns: request.exclude_patterns,
    compression: request.compression,
    archiveName: request.archive_name,
    sshHostKey: request.ssh_host_key ? checkHostKeys(request.ssh_host_key) : request.ssh_host_key,
    passphraseEncrypted:
      request.passphrase === undefined ? undefined : deps.secretBox.encrypt(request.passphrase),
    expectedIntervalSeconds: request.expected_interval_seconds,
    overdueFactor: request.overdue_factor,
  };
  const updated = await deps.store.repositories.update(id, patch, deps.clock());
  if (updated === "name_taken") {
    throw new AppError("conflict", `a repository named "${request.name}" exists`);
  }
  if (!updated) throw new AppError("not_found", `no repository ${id}`);
  await audit(deps, {
    actor,
    action: "repository.update",
    target: `repository:${id}`,
    // Field names only: never the passphrase (or any value).
    details: { fields: Object.keys(request).sort() },
  });
  if (request.expected_interval_seconds !== undefined || request.overdue_factor !== undefined) {
    // A new deadline is in effect now, not at the next sweep.
    await sweepFreshness(deps, [updated]);
    return (await deps.store.repositories.byId(id)) ?? updated;
  }
  return updated;
}

export async function deleteRepository(
  deps: HubDeps,
  actor: UserActor,
  id: number,
  options: { purge: boolean },
): Promise<{ keptOnBox?: { boxId: number; message: string } }> {
  const repository = await getRepository(deps, id);
  if (options.purge && repository.boxId === null) {
    throw new AppError(
      "validation_failed",
      "purge: this repository is not on a storage box; the hub never deletes data at a custom location",
      { field: "purge" },
    );
  }
  if (options.purge) {
    // The box repo goes first, only while no job uses the repository: purge means the
    // data must go, so a record without its data is better than data without a record.
    const latest = await deps.store.jobs.latestForRepository(id);
    if (latest && ACTIVE_JOB_STATUSES.includes(latest.status as never)) {
      throw new AppError(
        "conflict",
        `repository "${repository.name}" has queued or running jobs; cancel them first`,
      );
    }
    await purgeBoxRepo(deps, repository);
  }
  if (!(await deps.store.repositories.removeIfIdle(id))) {
    if (!(await deps.store.repositories.byId(id))) {
      throw new AppError("not_found", `no repository ${id}`);
    }
    throw new AppError(
      "conflict",
      `repository "${repository.name}" has queued or running jobs; cancel them first`,
    );
  }
  await audit(deps, {
    actor,
    action: "repository.delete",
    target: `repository:${id}`,
    details: { name: repository.name, purge: options.purge || undefined },
  });
  if (repository.boxId === null || options.purge) return {};
  const box = await deps.store.boxes.byId(repository.boxId);
  return {
    keptOnBox: {
      boxId: repository.boxId,
      message: `the repository's data stays on box "${box?.name ?? repository.boxId}" (${repository.location}) and the machine's key can still reach it; delete with ?purge=true to remove it there too`,
    },
  };
}

export async function repositoryArchives(deps: HubDeps, id: number) {
  const listed = await deps.store.repositories.archives(id);
  if (!listed) throw new AppError("not_found", `no repository ${id}`);
  return listed;
}
