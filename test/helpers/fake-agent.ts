/**
 * A fake agent for hub tests: speaks the runtime protocol (src/shared/protocol/agent.ts)
 * over real HTTP to a served hub (`hub.serve().url`). Every method answers
 * `{ok, status, body}`; a 2xx body is validated with its protocol schema (a mismatch
 * throws, so a test catches a hub that drifted from the contract), any other body is
 * the error shape when it parses as one.
 *
 *   const agent = await FakeAgent.enroll(url, enrollmentToken);
 *   await agent.heartbeat();                 // pending → online
 *   const { body } = expectOk(await agent.poll({ wait: 1 }));
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
  HeartbeatResponse,
  type LogEntry,
  LogsResponse,
  PollResponse,
  type ProgressRequest,
  type RegisterRequest,
  RegisterResponse,
  type StartRequest,
  UploadResponse,
} from "../../src/shared/protocol/agent.ts";
import { CreatedEnrollmentToken } from "../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../src/shared/protocol/common.ts";
import { PROTOCOL_VERSION } from "../../src/shared/protocol/version.ts";
import type { TestHub } from "./hub.ts";

export type Reply<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; body: ErrorBody | undefined };

export interface RawReply {
  status: number;
  body: unknown;
}

/** The body of a 2xx reply, or a thrown error naming the status and the hub's message. */
export function expectOk<T>(reply: Reply<T>): T {
  if (!reply.ok) {
    throw new Error(`expected 2xx, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

/** Creates an enrollment token through the user API (as `adminToken`) and returns its value. */
export async function newEnrollmentToken(
  hub: TestHub,
  adminToken: string,
  options: { name?: string; expiresInMinutes?: number } = {},
): Promise<string> {
  const response = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: adminToken,
    body: {
      name: options.name ?? "test enrollment",
      expires_in_minutes: options.expiresInMinutes ?? 60,
    },
  });
  if (response.status !== 201)
    throw new Error(`enrollment token: ${response.status} ${response.text}`);
  return CreatedEnrollmentToken.parse(response.body).token;
}

/** The error body of a non-2xx reply; throws on a 2xx or a body that is not the error shape. */
export function expectError<T>(reply: Reply<T>): ErrorBody {
  if (reply.ok || reply.body === undefined) {
    throw new Error(`expected an error body, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

/** What a typical agent reports at registration; tests override single fields. */
export function registrationBody(
  enrollmentToken: string,
  overrides: Partial<RegisterRequest> = {},
): RegisterRequest {
  return {
    enrollment_token: enrollmentToken,
    protocol_version: PROTOCOL_VERSION,
    hostname: "fake-host.test",
    os: "linux",
    arch: "x64",
    agent_version: "0.1.0-fake",
    borg_versions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
    capabilities: ["backup.create", "backup.cancel", "logs.stream"],
    ...overrides,
  };
}

async function send(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<RawReply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      [AGENT_PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

function decode<S extends z.ZodType>(raw: RawReply, schema: S): Reply<z.infer<S>> {
  if (raw.status >= 200 && raw.status < 300) {
    const result = schema.safeParse(raw.body);
    if (!result.success) {
      throw new Error(
        `hub answered ${raw.status} with a body that breaks the protocol: ${result.error.message}\n${JSON.stringify(raw.body)}`,
      );
    }
    return { ok: true, status: raw.status, body: result.data };
  }
  const error = ErrorBody.safeParse(raw.body);
  return { ok: false, status: raw.status, body: error.success ? error.data : undefined };
}

/** For 204 answers: no body to validate. */
function decodeEmpty(raw: RawReply): Reply<undefined> {
  if (raw.status >= 200 && raw.status < 300)
    return { ok: true, status: raw.status, body: undefined };
  const error = ErrorBody.safeParse(raw.body);
  return { ok: false, status: raw.status, body: error.success ? error.data : undefined };
}

export class FakeAgent {
  /** What heartbeats report; change fields to simulate an upgraded agent. */
  facts: Pick<RegisterRequest, "hostname" | "agent_version" | "borg_versions" | "capabilities">;

  constructor(
    readonly baseUrl: string,
    readonly agentId: string,
    readonly token: string,
    facts?: Partial<FakeAgent["facts"]>,
  ) {
    const defaults = registrationBody("");
    this.facts = {
      hostname: facts?.hostname ?? defaults.hostname,
      agent_version: facts?.agent_version ?? defaults.agent_version,
      borg_versions: facts?.borg_versions ?? defaults.borg_versions,
      capabilities: facts?.capabilities ?? defaults.capabilities,
    };
  }

  /** POST /register without throwing: for tests of refused registrations. */
  static async register(
    baseUrl: string,
    enrollmentToken: string,
    overrides: Partial<RegisterRequest> = {},
  ): Promise<Reply<RegisterResponse>> {
    const raw = await send(
      baseUrl,
      "POST",
      `${AGENT_API_PREFIX}/register`,
      registrationBody(enrollmentToken, overrides),
      {},
    );
    return decode(raw, RegisterResponse);
  }

  /** Registers and returns the agent; throws when the hub refuses. */
  static async enroll(
    baseUrl: string,
    enrollmentToken: string,
    overrides: Partial<RegisterRequest> = {},
  ): Promise<FakeAgent> {
    const body = expectOk(await FakeAgent.register(baseUrl, enrollmentToken, overrides));
    const facts = registrationBody(enrollmentToken, overrides);
    return new FakeAgent(baseUrl, body.agent_id, body.agent_token, facts);
  }

  /** Any call with this agent's credential; the body is returned as sent by the hub. */
  request(method: string, path: string, body?: unknown): Promise<RawReply> {
    return send(this.baseUrl, method, path, body, {
      [AGENT_AUTH_HEADER]: `Bearer ${this.token}`,
    });
  }

  async heartbeat(
    runningJobIds: number[] = [],
    extra: { last_error?: string | null; ssh_public_key?: string; agent_id?: string } = {},
  ): Promise<Reply<HeartbeatResponse>> {
    const raw = await this.request("POST", `${AGENT_API_PREFIX}/heartbeat`, {
      agent_id: this.agentId,
      protocol_version: PROTOCOL_VERSION,
      ...this.facts,
      running_job_ids: runningJobIds,
      ...extra,
    });
    return decode(raw, HeartbeatResponse);
  }

  async poll(
    options: { limit?: number; wait?: number } = {},
  ): Promise<Reply<z.infer<typeof PollResponse>>> {
    const query = new URLSearchParams({
      limit: String(options.limit ?? 1),
      wait: String(options.wait ?? 0),
    });
    return decode(
      await this.request("GET", `${AGENT_API_PREFIX}/jobs/poll?${query}`),
      PollResponse,
    );
  }

  async claim(jobId: number): Promise<Reply<z.infer<typeof ClaimResponse>>> {
    return decode(await this.request("POST", this.jobPath(jobId, "claim")), ClaimResponse);
  }

  async start(
    jobId: number,
    body: z.infer<typeof StartRequest> = {},
  ): Promise<Reply<z.infer<typeof UploadResponse>>> {
    return decode(await this.request("POST", this.jobPath(jobId, "start"), body), UploadResponse);
  }

  async progress(
    jobId: number,
    body: ProgressRequest,
  ): Promise<Reply<z.infer<typeof UploadResponse>>> {
    return decode(
      await this.request("POST", this.jobPath(jobId, "progress"), body),
      UploadResponse,
    );
  }

  /** An array is sent as `{entries: […]}`, a single entry as itself. */
  async logs(
    jobId: number,
    entries: LogEntry | LogEntry[],
  ): Promise<Reply<z.infer<typeof LogsResponse>>> {
    const body = Array.isArray(entries) ? { entries } : entries;
    return decode(await this.request("POST", this.jobPath(jobId, "logs"), body), LogsResponse);
  }

  async complete(
    jobId: number,
    body: CompleteRequest,
  ): Promise<Reply<z.infer<typeof UploadResponse>>> {
    return decode(
      await this.request("POST", this.jobPath(jobId, "complete"), body),
      UploadResponse,
    );
  }

  async fail(
    jobId: number,
    body: z.infer<typeof FailRequest>,
  ): Promise<Reply<z.infer<typeof UploadResponse>>> {
    return decode(await this.request("POST", this.jobPath(jobId, "fail"), body), UploadResponse);
  }

  async canceled(
    jobId: number,
    body: z.infer<typeof CanceledRequest> = {},
  ): Promise<Reply<z.infer<typeof UploadResponse>>> {
    return decode(
      await this.request("POST", this.jobPath(jobId, "canceled"), body),
      UploadResponse,
    );
  }

  async jobStatus(jobId: number): Promise<Reply<z.infer<typeof AgentJobStatus>>> {
    return decode(await this.request("GET", this.jobPath(jobId)), AgentJobStatus);
  }

  async unregister(): Promise<Reply<undefined>> {
    return decodeEmpty(await this.request("POST", `${AGENT_API_PREFIX}/unregister`));
  }

  private jobPath(jobId: number, action?: string): string {
    return `${AGENT_API_PREFIX}/jobs/${jobId}${action ? `/${action}` : ""}`;
  }
}
