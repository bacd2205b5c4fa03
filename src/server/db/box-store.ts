/**
 * The Store groups of storage boxes (part of store.ts's Store; its contract applies).
 */
import type { BoxPatch, BoxRefresh, BoxRemoval, BoxRow, LentBoxKeyRow, NewBox } from "./records.ts";

/** Storage boxes the hub manages. The sealed token is read only by `sealedToken`. */
export interface BoxStore {
  /** Undefined when the name is taken. */
  insert(box: NewBox): Promise<BoxRow | undefined>;
  /** Oldest first. */
  list(): Promise<BoxRow[]>;
  byId(id: number): Promise<BoxRow | undefined>;
  /** The sealed bearer token; undefined when there is no such box. */
  sealedToken(id: number): Promise<string | undefined>;
  /** "name_taken" when a rename collides; undefined when there is no such box. */
  update(id: number, patch: BoxPatch, now: number): Promise<BoxRow | undefined | "name_taken">;
  /** Stores what a refresh learned; undefined when the box is gone. */
  recordRefresh(id: number, refresh: BoxRefresh, now: number): Promise<BoxRow | undefined>;
  /** Deletes the box unless a repository names it, in one guarded statement. */
  removeUnreferenced(id: number): Promise<BoxRemoval>;
}

/** Keys lent on boxes for one job each (cross-machine restore). */
export interface LentBoxKeyStore {
  insert(
    key: { boxId: number; repoName: string; tag: string },
    now: number,
  ): Promise<LentBoxKeyRow>;
  /** Names the job the key was lent for, once it is queued. */
  attachJob(id: number, jobId: number): Promise<void>;
  forJob(jobId: number): Promise<LentBoxKeyRow[]>;
  /**
   * Keys to take back: those whose job is terminal or gone, and those never attached to a
   * job that were lent before `orphanBefore`. Oldest first, at most `limit`.
   */
  due(orphanBefore: number, limit: number): Promise<LentBoxKeyRow[]>;
  remove(id: number): Promise<void>;
}
