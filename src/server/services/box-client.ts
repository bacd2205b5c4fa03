/**
 * The hub's HTTP client for a storage box: the one place the hub speaks the box protocol
 * (src/shared/protocol/box.ts, borgbox-compatible, base /api/v1). Every answer is decoded
 * with the protocol's schemas; every failure becomes a BoxCallError whose message says
 * what the box answered (its `error` text) or why it could not be reached, and never
 * contains the bearer token (it only travels in the Authorization header).
 *
 * Lifecycle: stateless; one client per call site, built from the box's URL and its
 * decrypted token. Each request has its own timeout; nothing is retried here (the
 * background refresh runs again a minute later, and a user action reports the failure).
 */
import type { z } from "zod";
import {
  BOX_API_PREFIX,
  type CreateRepoRequest,
  Info,
  type LendKeyRequest,
  Repo,
} from "../../shared/protocol/box.ts";

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_REASON = 300;

/** A box call that failed: `status` is the box's HTTP status (undefined: not reached). */
export class BoxCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "BoxCallError";
  }
}

export interface BoxClient {
  info(): Promise<Info>;
  listRepos(): Promise<Repo[]>;
  getRepo(name: string): Promise<Repo>;
  createRepo(request: CreateRepoRequest): Promise<Repo>;
  importRepo(request: CreateRepoRequest): Promise<Repo>;
  deleteRepo(name: string): Promise<void>;
  /** borgctl boxes only: one more key for a repo, on its own tagged line. */
  lendKey(name: string, request: LendKeyRequest): Promise<void>;
  /** Takes a lent key back; a BoxCallError with status 404 when it is not there. */
  returnKey(name: string, tag: string): Promise<void>;
}

export interface BoxClientOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * The box's base URL as the hub stores it: http(s), no credentials, query or fragment,
 * no trailing "/" and no "/api/v1" (the client adds it). Undefined when it is not one.
 */
export function normalizeBoxUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  let path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith(BOX_API_PREFIX)) path = path.slice(0, -BOX_API_PREFIX.length);
  return `${url.origin}${path}`;
}

const oneLine = (text: string) =>
  text
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[^\x20-\x7e\u00a0-\uffff]/g, "")
    .slice(0, MAX_REASON);

async function reasonOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string" && body.error !== "") return oneLine(body.error);
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${response.status}`;
}

export function boxClient(
  baseUrl: string,
  token: string,
  options: BoxClientOptions = {},
): BoxClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const call = async <S extends z.ZodType | undefined>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<S extends z.ZodType ? z.output<S> : undefined> => {
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${BOX_API_PREFIX}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new BoxCallError(
        name === "TimeoutError"
          ? `no answer within ${Math.round(timeoutMs / 1000)} s`
          : `cannot reach ${baseUrl}: ${oneLine((error as Error).message)}`,
      );
    }
    if (!response.ok) {
      const reason = await reasonOf(response);
      throw new BoxCallError(
        response.status === 401 ? `the box refused the token (${reason})` : reason,
        response.status,
      );
    }
    if (schema === undefined) {
      await response.body?.cancel();
      return undefined as never;
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new BoxCallError(`${method} ${path} did not answer JSON: is this a storage box?`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new BoxCallError(`${method} ${path} answered something that is not a box's answer`);
    }
    return parsed.data as never;
  };
  const repoPath = (name: string) => `/repos/${encodeURIComponent(name)}`;
  return {
    info: () => call("GET", "/info", Info),
    listRepos: () => call("GET", "/repos", Repo.array()),
    getRepo: (name) => call("GET", repoPath(name), Repo),
    createRepo: (request) => call("POST", "/repos", Repo, request),
    importRepo: (request) => call("POST", "/repos/import", Repo, request),
    deleteRepo: (name) => call("DELETE", repoPath(name), undefined),
    lendKey: (name, request) => call("POST", `${repoPath(name)}/keys`, undefined, request),
    returnKey: (name, tag) =>
      call("DELETE", `${repoPath(name)}/keys/${encodeURIComponent(tag)}`, undefined),
  };
}
