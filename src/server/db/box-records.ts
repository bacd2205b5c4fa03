/**
 * Storage boxes as the hub's store holds them (re-exported by records.ts): where the box
 * answers HTTP and SSH, and the facts the last refresh read from its /info and /repos.
 * The box's bearer token is deliberately not part of the record: it is stored sealed by
 * SecretBox and only `boxes.sealedToken(id)` reads it, so a row can never carry it into
 * a response or a log line.
 */
import { z } from "zod";
import { Repo } from "../../shared/protocol/box.ts";

const Id = z.number().int();
const Time = z.number().int();
const TimeOrNull = Time.nullable();

export const BoxStatus = z.enum(["online", "offline"]);
export type BoxStatus = z.infer<typeof BoxStatus>;

/** The box's own repo list as its GET /repos answered it at the last refresh. */
export const StoredBoxRepos = z.array(Repo);

export const BoxRecord = z.object({
  id: Id,
  name: z.string(),
  url: z.string(),
  sshHost: z.string(),
  sshPort: z.number().int(),
  sshUser: z.string(),
  status: BoxStatus,
  lastSeenAt: TimeOrNull,
  lastError: z.string().nullable(),
  version: z.string().nullable(),
  borgVersion: z.string().nullable(),
  freeBytes: z.number().nullable(),
  totalBytes: z.number().nullable(),
  repoCount: z.number().int().nullable(),
  /** `TYPE BASE64` lines the box advertised; what box repositories pin. */
  sshHostKeys: z.array(z.string()),
  repos: StoredBoxRepos,
  reposListedAt: TimeOrNull,
  createdAt: Time,
  updatedAt: Time,
});
export type BoxRow = z.infer<typeof BoxRecord>;

export interface NewBox {
  name: string;
  url: string;
  /** AES-256-GCM sealed by SecretBox; never the plaintext. */
  tokenEncrypted: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  status: BoxStatus;
  lastSeenAt: number | null;
  lastError: string | null;
  version: string | null;
  borgVersion: string | null;
  freeBytes: number | null;
  totalBytes: number | null;
  repoCount: number | null;
  sshHostKeys: string[];
  repos: z.infer<typeof StoredBoxRepos>;
  reposListedAt: number | null;
}

/** What PATCH may change (a new token comes sealed). */
export type BoxPatch = Partial<
  Pick<NewBox, "name" | "url" | "tokenEncrypted" | "sshHost" | "sshPort" | "sshUser">
>;

/**
 * What one refresh learned. An offline box keeps its last known facts: only status and
 * lastError change then.
 */
export type BoxRefresh = Partial<
  Pick<
    NewBox,
    | "lastSeenAt"
    | "version"
    | "borgVersion"
    | "freeBytes"
    | "totalBytes"
    | "repoCount"
    | "sshHostKeys"
    | "repos"
    | "reposListedAt"
  >
> &
  Pick<NewBox, "status" | "lastError">;

export type BoxRemoval =
  | { outcome: "removed" }
  | { outcome: "not_found" }
  | { outcome: "referenced"; repositories: number };

/**
 * A machine's SSH key lent on a box for one job (a cross-machine restore): which line the
 * box holds (`# borgbox-lent:<repoName>:<tag>`) and for which job. `jobId` is null between
 * the lend and the queueing of the job (a hub that died there leaves an orphan the sweep
 * takes back).
 */
export const LentBoxKeyRecord = z.object({
  id: Id,
  boxId: Id,
  repoName: z.string(),
  tag: z.string(),
  jobId: Id.nullable(),
  createdAt: Time,
});
export type LentBoxKeyRow = z.infer<typeof LentBoxKeyRecord>;
