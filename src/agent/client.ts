/**
 * The agent's HTTP client for the hub's runtime API. Every answer is decoded with the
 * shared protocol schemas (the hub may run another version), and failures are sorted
 * into what the loop must do about them:
 * - HubUnavailable: network error, timeout or 5xx → retry later with backoff;
 * - AgentRejected (401 to a call that carries the agent token): the credential was
 *   revoked or disabled → stop, don't retry (a 401 to register, which carries none, is
 *   the enrollment token's refusal: a HubRefused with the hub's reason);
 * - HubRefused (other 4xx): this request will never succeed as is → drop or report.
 * Plain HTTP is refused for a hub that is not on this machine unless `insecure` is set:
 * the agent token and job passphrases travel in these requests.
 */
import type { z } from "zod";
import {
  AGENT_API_PREFIX,
  AGENT_AUTH_HEADER,
  AGENT_PROTOCOL_HEADER,
  AgentJobStatus,
  type CanceledRequest,
  ClaimResponse,
  type CompleteRequest,
  type FailRequest,
  type HeartbeatRequest,
  HeartbeatResponse,
  type ListingChunk,
  type LogEntry,
  LogsResponse,
  PollResponse,
  type ProgressRequest,
  type RegisterRequest,
  RegisterResponse,
  type StartRequest,
  UploadResponse,
} from "../shared/protocol/agent.ts";
import { ErrorBody } from "../shared/protocol/common.ts";
import { PROTOCOL_VERSION } from "../shared/protocol/version.ts";

export class HubUnavailable extends Error {
  override readonly name = "HubUnavailable";
}
export class AgentRejected extends Error {
  override readonly name = "AgentRejected";
}
export class HubRefused extends Error {
  override readonly name = "HubRefused";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long a download chunk may wait for the browser (the job's lease is as long). */
const DOWNLOAD_WAIT_MS = 5 * 60_000;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** Throws when the URL would send credentials in clear text off this machine. */
export function assertTransportAllowed(serverUrl: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new Error(`"${serverUrl}" is not a URL; use e.g. https://backup.example.com`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`the hub URL must start with https:// (got ${url.protocol})`);
  }
  if (
    url.protocol === "http:" &&
    !LOOPBACK.has(url.hostname) &&
    !url.hostname.startsWith("127.") &&
    !insecure
  ) {
    throw new Error(
      `refusing plain HTTP to ${url.host}: the agent token and passphrases would travel unencrypted. Use https://, or pass --insecure on a network you trust`,
    );
  }
  return url;
}

export interface HubClientOptions {
  serverUrl: string;
  token?: string;
  insecure?: boolean;
  /** Per-request timeout (a long poll adds its own wait on top). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class HubClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: HubClientOptions) {
    this.base = assertTransportAllowed(options.serverUrl, options.insecure ?? false)
      .toString()
      .replace(/\/$/, "");
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  register(body: RegisterRequest) {
    return this.call("POST", "/register", RegisterResponse, body);
  }
  heartbeat(body: HeartbeatRequest) {
    return this.call("POST", "/heartbeat", HeartbeatResponse, body);
  }
  poll(waitSeconds: number, signal?: AbortSignal) {
    return this.call("GET", `/jobs/poll?limit=1&wait=${waitSeconds}`, PollResponse, undefined, {
      extraMs: waitSeconds * 1000,
      signal,
    });
  }
  claim(jobId: number) {
    return this.call("POST", `/jobs/${jobId}/claim`, ClaimResponse, {});
  }
  start(jobId: number, body: StartRequest) {
    return this.call("POST", `/jobs/${jobId}/start`, UploadResponse, body);
  }
  progress(jobId: number, body: ProgressRequest) {
    return this.call("POST", `/jobs/${jobId}/progress`, UploadResponse, body);
  }
  logs(jobId: number, entries: LogEntry[]) {
    return this.call("POST", `/jobs/${jobId}/logs`, LogsResponse, { entries });
  }
  listing(jobId: number, body: ListingChunk) {
    return this.call("POST", `/jobs/${jobId}/listing`, UploadResponse, body);
  }
  /**
   * Raw bytes of archive.download's file, from `offset` on. The hub answers once its
   * browser has room for more, so a slow browser may hold it for minutes.
   */
  download(jobId: number, offset: number, bytes: Uint8Array) {
    return this.call("POST", `/jobs/${jobId}/download?offset=${offset}`, UploadResponse, bytes, {
      extraMs: DOWNLOAD_WAIT_MS,
    });
  }
  complete(jobId: number, body: CompleteRequest) {
    return this.call("POST", `/jobs/${jobId}/complete`, UploadResponse, body);
  }
  fail(jobId: number, body: FailRequest) {
    return this.call("POST", `/jobs/${jobId}/fail`, UploadResponse, body);
  }
  canceled(jobId: number, body: CanceledRequest) {
    return this.call("POST", `/jobs/${jobId}/canceled`, UploadResponse, body);
  }
  jobStatus(jobId: number) {
    return this.call("GET", `/jobs/${jobId}`, AgentJobStatus);
  }
  async unregister(): Promise<void> {
    await this.call("POST", "/unregister", undefined, {});
  }

  private async call<S extends z.ZodType | undefined>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    options: { extraMs?: number; signal?: AbortSignal } = {},
  ): Promise<S extends z.ZodType ? z.infer<S> : undefined> {
    const headers: Record<string, string> = { [AGENT_PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
    if (this.options.token) headers[AGENT_AUTH_HEADER] = `Bearer ${this.options.token}`;
    const raw = body instanceof Uint8Array;
    if (body !== undefined) {
      headers["content-type"] = raw ? "application/octet-stream" : "application/json";
    }
    const timeout = AbortSignal.timeout(this.timeoutMs + (options.extraMs ?? 0));
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${AGENT_API_PREFIX}${path}`, {
        method,
        headers,
        body: body === undefined || raw ? (body as BodyInit | undefined) : JSON.stringify(body),
        signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      });
    } catch (error) {
      throw new HubUnavailable(`cannot reach the hub at ${this.base}: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => "");
    if (response.status >= 500) {
      throw new HubUnavailable(`the hub answered ${response.status} to ${method} ${path}`);
    }
    if (response.status === 401 && this.options.token) {
      throw new AgentRejected(
        "the hub refused this agent's credential: it was revoked or disabled. Re-enroll with `borgctl agent register`",
      );
    }
    if (response.status >= 400) {
      const parsed = ErrorBody.safeParse(safeJson(text));
      throw new HubRefused(
        response.status,
        parsed.success ? parsed.data.code : "unknown",
        parsed.success ? parsed.data.error : `the hub answered ${response.status}`,
      );
    }
    if (schema === undefined) return undefined as never;
    const decoded = schema.safeParse(safeJson(text));
    if (!decoded.success) {
      throw new HubUnavailable(
        `unexpected answer from the hub to ${method} ${path}: ${decoded.error.issues[0]?.message}`,
      );
    }
    return decoded.data as never;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
