/**
 * The box's repository rules, in one place: a repo is a directory under the root plus at
 * most one key line in authorized_keys that pins a key to it. Every operation validates
 * first and changes nothing on bad input; when a two-step change fails half-way, the
 * first step is undone.
 */
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { CreateRepoRequest, LendKeyRequest, Repo } from "../shared/protocol/box.ts";
import { parseSshPublicKey } from "../shared/ssh-key.ts";
import {
  type AuthorizedKeysFile,
  findOwnedLine,
  renderKeyLine,
  renderLentKeyLine,
} from "./authorized-keys.ts";
import type { JobRegistry } from "./jobs.ts";
import type { RepoFactsCache } from "./repo-facts-cache.ts";
import { resolveRepoPath, validateRepoName } from "./repo-names.ts";
import { createRepoDir, type RepoFacts, readRepoFacts, removeRepoDir } from "./repos.ts";

export interface RepoServiceDeps {
  root: string;
  authorizedKeys: AuthorizedKeysFile;
  facts: RepoFactsCache;
  jobs: JobRegistry;
  /** Whether a live `borg serve` is using the repo right now. */
  hasLiveSession: (name: string) => Promise<boolean>;
  /** `ssh://user@host/path` for a repo, when the box knows its SSH address. */
  sshUrl?: (path: string) => string;
  logger: Logger;
}

export class RepoService {
  constructor(private readonly deps: RepoServiceDeps) {}

  async list(): Promise<Repo[]> {
    const [facts, owned] = await Promise.all([
      this.deps.facts.list(),
      this.deps.authorizedKeys.owned(),
    ]);
    const repos = facts.map((f) => this.toRepo(f, owned.get(f.name)));
    // A key whose directory is gone is still access someone holds: list it.
    const present = new Set(facts.map((f) => f.name));
    for (const [name, line] of owned) {
      if (!present.has(name)) repos.push(this.toRepo(this.missingFacts(name), line));
    }
    return repos.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Repo> {
    validateRepoName(name);
    const owned = (await this.deps.authorizedKeys.owned()).get(name);
    try {
      return this.toRepo(await this.deps.facts.get(name), owned);
    } catch (error) {
      if (error instanceof AppError && error.code === "not_found" && owned) {
        return this.toRepo(this.missingFacts(name), owned);
      }
      throw error;
    }
  }

  /** New directory + key line. An existing non-empty directory is for import, not create. */
  async create(request: CreateRepoRequest): Promise<Repo> {
    const { name, path, line } = await this.prepare(request);
    const existing = await readRepoFacts(this.deps.root, name).catch((error) => {
      if (error instanceof AppError && error.code === "not_found") return undefined;
      throw error;
    });
    if (existing && existing.size_bytes > 0) {
      throw new AppError(
        "conflict",
        `directory for repo "${name}" already exists and is not empty; use POST /repos/import to register a key for it`,
      );
    }
    await createRepoDir(this.deps.root, name);
    try {
      await this.deps.authorizedKeys.add(name, line);
    } catch (error) {
      // Undo only what this call did: an empty directory it created.
      if (!existing) await removeRepoDir(this.deps.root, name).catch(() => {});
      throw error;
    }
    this.deps.logger.info("repo created", {
      repo: name,
      path,
      append_only: request.append_only ?? false,
    });
    return this.get(name);
  }

  /** Key line for a repository directory that already exists (e.g. moved from elsewhere). */
  async import(request: CreateRepoRequest): Promise<Repo> {
    const { name, line } = await this.prepare(request);
    await readRepoFacts(this.deps.root, name); // not_found / symlink refused
    await this.deps.authorizedKeys.add(name, line);
    this.deps.logger.info("repo imported", { repo: name });
    return this.get(name);
  }

  async setAppendOnly(name: string, appendOnly: boolean): Promise<Repo> {
    const path = resolveRepoPath(this.deps.root, name);
    const current = findOwnedLine(await this.deps.authorizedKeys.read(), name);
    if (!current) throw new AppError("not_found", `repo "${name}" has no key registered`);
    if (!current.type || !current.base64) {
      throw new AppError(
        "conflict",
        `the key line of repo "${name}" was edited by hand; fix or delete it first`,
      );
    }
    const line = renderKeyLine({
      repoPath: path,
      name,
      key: { type: current.type, base64: current.base64, comment: "", fingerprint: "" },
      appendOnly,
    });
    await this.deps.authorizedKeys.replace(name, line);
    await this.deps.authorizedKeys.rerenderLent(name, (tag, key) =>
      renderLentKeyLine({
        repoPath: path,
        name,
        tag,
        key: { ...key, comment: "", fingerprint: "" },
        appendOnly,
      }),
    );
    this.deps.logger.info("repo append-only changed", { repo: name, append_only: appendOnly });
    return this.get(name);
  }

  /**
   * Lends one more key to a registered repo (POST /repos/{name}/keys): its own tagged line,
   * restricted like the repo's line, append-only when the repo is. 409 when the key has
   * any other line (see authorized-keys.ts: sshd takes the first match).
   */
  async lendKey(name: string, request: LendKeyRequest): Promise<void> {
    const path = resolveRepoPath(this.deps.root, validateRepoName(name));
    const parsed = parseSshPublicKey(request.pubkey);
    if (!parsed.ok) throw new AppError("validation_failed", `pubkey: ${parsed.reason}`);
    const owner = findOwnedLine(await this.deps.authorizedKeys.read(), name);
    if (!owner) throw new AppError("not_found", `repo "${name}" has no key registered`);
    const line = renderLentKeyLine({
      repoPath: path,
      name,
      tag: request.tag,
      key: parsed.key,
      appendOnly: owner.appendOnly,
    });
    await this.deps.authorizedKeys.addLent(name, request.tag, parsed.key.base64, line);
    this.deps.logger.info("key lent", { repo: name, tag: request.tag });
  }

  /** Takes a lent key back (DELETE /repos/{name}/keys/{tag}); 404 when it is not there. */
  async returnKey(name: string, tag: string): Promise<void> {
    validateRepoName(name);
    if (!(await this.deps.authorizedKeys.removeLent(name, tag))) {
      throw new AppError("not_found", `repo "${name}" has no key lent under tag "${tag}"`);
    }
    this.deps.logger.info("lent key returned", { repo: name, tag });
  }

  /**
   * Key line first (no new sessions), then the directory. Refused while in use, and
   * before anything changes when the directory is not a plain one (a symlink).
   */
  async delete(name: string): Promise<void> {
    resolveRepoPath(this.deps.root, name);
    await this.assertIdle(name, "deleted");
    const hasDir = await readRepoFacts(this.deps.root, name).then(
      () => true,
      (error) => {
        if (error instanceof AppError && error.code === "not_found") return false;
        throw error;
      },
    );
    const removedKey = await this.deps.authorizedKeys.remove(name);
    await this.deps.authorizedKeys.removeLent(name);
    if (hasDir) await removeRepoDir(this.deps.root, name);
    this.deps.facts.invalidate(name);
    if (!removedKey && !hasDir) throw new AppError("not_found", `no repo "${name}"`);
    this.deps.logger.info("repo deleted", { repo: name });
  }

  /** 409 while a job or a live borg serve uses the repo. */
  async assertIdle(name: string, what: string): Promise<void> {
    const job = this.deps.jobs.activeFor(name);
    if (job)
      throw new AppError(
        "conflict",
        `repo "${name}" cannot be ${what}: job ${job.id} is ${job.status}`,
      );
    if (await this.deps.hasLiveSession(name)) {
      throw new AppError(
        "conflict",
        `repo "${name}" cannot be ${what}: a borg client is connected to it`,
      );
    }
  }

  private async prepare(request: CreateRepoRequest) {
    const name = validateRepoName(request.name);
    const path = resolveRepoPath(this.deps.root, name);
    const parsed = parseSshPublicKey(request.pubkey);
    if (!parsed.ok) throw new AppError("validation_failed", `pubkey: ${parsed.reason}`);
    if (findOwnedLine(await this.deps.authorizedKeys.read(), name)) {
      throw new AppError("conflict", `repo "${name}" already has a key registered`);
    }
    const line = renderKeyLine({
      repoPath: path,
      name,
      key: parsed.key,
      appendOnly: request.append_only ?? false,
    });
    return { name, path, line };
  }

  private missingFacts(name: string): RepoFacts {
    return {
      name,
      path: resolveRepoPath(this.deps.root, name),
      size_bytes: 0,
      initialized: false,
      modified_at: "",
      last_write_at: null,
      last_segment: null,
      locked: false,
    };
  }

  private toRepo(facts: RepoFacts, owned: { appendOnly: boolean } | undefined): Repo {
    const repo: Repo = {
      name: facts.name,
      path: facts.path,
      size_bytes: facts.size_bytes,
      initialized: facts.initialized,
      modified_at: facts.modified_at,
      last_write_at: facts.last_write_at,
      registered: owned !== undefined,
      append_only: owned?.appendOnly ?? false,
    };
    if (this.deps.sshUrl) repo.ssh_url = this.deps.sshUrl(facts.path);
    return repo;
  }
}
