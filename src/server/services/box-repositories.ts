/**
 * The box half of a repository on a storage box: creating its repo on the box with the
 * machine's SSH key (POST /api/v1/repos), deriving the location agents use, pinning the
 * box's advertised host keys, and removing the repo again — as an undo when a later
 * step of the creation fails, or on DELETE …?purge=true. repositories.ts owns the record
 * and calls these; every failure names its step.
 */
import { AppError } from "../../shared/errors.ts";
import { parseBorgLocation } from "../../shared/protocol/borg-values.ts";
import { REPO_NAME_RE } from "../../shared/protocol/box.ts";
import { parseSshPublicKey } from "../../shared/ssh-key.ts";
import type { BoxRow, MachineRow, RepositoryRow } from "../db/records.ts";
import type { HubDeps } from "../deps.ts";
import { BoxCallError, type BoxClient } from "./box-client.ts";
import { clientForBox, getBox, refreshBox } from "./boxes.ts";

/** A repo created on a box for a new repository record, and how to take it back. */
export interface BoxPlacement {
  box: BoxRow;
  boxRepoName: string;
  /** The repo existed on the box (POST /repos/import) rather than being created. */
  imported: boolean;
  location: string;
  /** The box's host keys, one `TYPE BASE64` per line: the repository pins exactly these. */
  sshHostKey: string;
  /** Deletes the box repo again; resolves to a sentence when that failed too. */
  undo(): Promise<string | undefined>;
}

/**
 * The box repo's name for a repository name: borgbox allows `[a-z0-9][a-z0-9-]{0,62}`,
 * so letters are lowercased and every run of other characters becomes one "-".
 */
export function boxRepoNameFor(name: string): string | undefined {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return REPO_NAME_RE.test(slug) ? slug : undefined;
}

const reasonOf = (error: unknown) =>
  error instanceof BoxCallError ? error.message : "unexpected failure";

export async function placeOnBox(
  deps: HubDeps,
  request: {
    box_id: number;
    name: string;
    append_only: boolean;
    passphrase_location: "hub" | "agent";
    borg_version: 1 | 2;
    /** An existing box repo to import rather than a new one. */
    box_repo?: string;
  },
  machine: MachineRow,
): Promise<BoxPlacement> {
  if (request.append_only && request.passphrase_location === "agent") {
    throw new AppError(
      "validation_failed",
      'append_only: an append-only repository needs its passphrase kept by the hub (passphrase_location "hub"): ' +
        "the machine's key cannot delete from it, so prune, compact and check run on the box, driven by the hub, which needs the passphrase for them",
      { field: "append_only" },
    );
  }
  const importing = request.box_repo !== undefined;
  if (importing && !REPO_NAME_RE.test(request.box_repo as string)) {
    throw new AppError(
      "validation_failed",
      "box_repo: a box repo name is 1-63 characters of lowercase letters, digits and '-', starting with a letter or digit",
      { field: "box_repo" },
    );
  }
  const boxRepoName = importing ? request.box_repo : boxRepoNameFor(request.name);
  if (!boxRepoName) {
    throw new AppError(
      "validation_failed",
      "name: a repository on a box needs a name with at least one letter or digit (it names the box's repo directory)",
      { field: "name" },
    );
  }
  const found = await deps.store.boxes.byId(request.box_id);
  if (!found) {
    throw new AppError("validation_failed", `box_id: no box ${request.box_id}`, {
      field: "box_id",
    });
  }
  // sshd lets a key in through the first authorized_keys line that holds it, and each
  // line restricts it to one repo (borgbox's model): a second repo for the same machine
  // key on the same box could never be reached.
  const sibling = (await deps.store.repositories.list()).find(
    (r) => r.boxId === found.id && r.agentMachineId === machine.id,
  );
  if (sibling) {
    throw new AppError(
      "conflict",
      `machine "${machine.name}" already backs up to repository "${sibling.name}" on box "${found.name}": ` +
        "a box lets one machine key into one repo, so a second one there could not be reached; " +
        "use another box, or back up more paths into that repository",
      { repository_id: sibling.id },
    );
  }
  const pubkey = machine.sshPublicKey ? parseSshPublicKey(machine.sshPublicKey) : undefined;
  if (!pubkey?.ok) {
    throw new AppError(
      "conflict",
      `machine "${machine.name}" has not reported a usable SSH public key yet (its agent sends one when it registers): the box could not let it in`,
    );
  }
  // Step 1: is the box there, and what are its host keys now?
  const box = await refreshBox(deps, found);
  if (box.status !== "online") {
    throw new AppError(
      "conflict",
      `checking box "${box.name}" failed: it is offline (${box.lastError ?? "no answer"}); nothing was created`,
    );
  }
  if (box.sshHostKeys.length === 0) {
    throw new AppError(
      "conflict",
      `box "${box.name}" advertises no SSH host keys (start it with --ssh-host-keys or BORGBOX_SSH_HOST_KEYS): ` +
        "the hub pins a box's host keys for its machines and does not trust one on first use; nothing was created",
    );
  }
  // Step 2: the repo directory (or an existing one, imported) and the machine's key line.
  const client = await clientForBox(deps, box);
  const keyRequest = {
    name: boxRepoName,
    pubkey: `${pubkey.key.type} ${pubkey.key.base64}`,
    append_only: request.append_only,
  };
  let created: Awaited<ReturnType<BoxClient["createRepo"]>>;
  try {
    created = importing ? await client.importRepo(keyRequest) : await client.createRepo(keyRequest);
  } catch (error) {
    const status = error instanceof BoxCallError ? error.status : undefined;
    const step = `${importing ? "importing" : "creating"} repo "${boxRepoName}" on box "${box.name}" failed`;
    const why =
      status === 409
        ? importing
          ? "a key is already registered for it"
          : "the box already has a repo of that name (choose another name, or import it with box_repo)"
        : status === 404 && importing
          ? "the box has no repo of that name"
          : reasonOf(error);
    throw new AppError("conflict", `${step}: ${why}; nothing was created`);
  }
  const undo = async (): Promise<string | undefined> => {
    // An imported repo holds data the hub did not write: its key line stays rather than
    // the data going with it (the box API removes a key only together with the repo).
    if (importing) {
      return `the machine's key for repo "${boxRepoName}" stays registered on box "${box.name}" (the box API would delete the repo's data with it): remove that line there if it is not wanted`;
    }
    try {
      await client.deleteRepo(boxRepoName);
      return undefined;
    } catch (error) {
      deps.logger.error("removing a box repo after a failed creation failed", {
        box: box.id,
        repo: boxRepoName,
        error: reasonOf(error),
      });
      return `removing repo "${boxRepoName}" from box "${box.name}" again failed too (${reasonOf(error)}): delete it there`;
    }
  };
  // Step 3: the location agents use (borgbox's ssh://user@host/path form, with the port).
  const location = `ssh://${box.sshUser}@${box.sshHost}:${box.sshPort}${created.path}`;
  const parsed = parseBorgLocation(location, request.borg_version);
  if (!parsed.ok) {
    const undone = await undo();
    throw new AppError(
      "conflict",
      `deriving the location failed: ${location} ${parsed.reason}${undone ? `; ${undone}` : "; the box repo was removed again"}`,
    );
  }
  return {
    box,
    boxRepoName,
    imported: importing,
    location,
    sshHostKey: box.sshHostKeys.join("\n"),
    undo,
  };
}

/** The box repo a box repository's location names (its last path segment). */
export const boxRepoNameOf = (repository: Pick<RepositoryRow, "location">): string =>
  repository.location.replace(/\/+$/, "").split("/").at(-1) ?? "";

/** DELETE …?purge=true: the box repo's directory and its key line go (the box's DELETE). */
export async function purgeBoxRepo(deps: HubDeps, repository: RepositoryRow): Promise<void> {
  if (repository.boxId === null) return;
  const box = await getBox(deps, repository.boxId);
  const name = boxRepoNameOf(repository);
  try {
    await (await clientForBox(deps, box)).deleteRepo(name);
  } catch (error) {
    if (error instanceof BoxCallError && error.status === 404) return; // already gone
    throw new AppError(
      "conflict",
      `purging repo "${name}" on box "${box.name}" failed: ${reasonOf(error)}; the repository was kept`,
    );
  }
}
