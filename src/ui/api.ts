/**
 * The UI's client for the hub's /api: same-origin fetch with the session cookie the hub
 * sets at login, every answer decoded with the protocol's zod schemas. Failures become
 * ApiError with the hub's own plain-words message, so pages can show it next to what
 * caused it. A 401 anywhere also tells the app to show the login page.
 *
 * (The routes are registered imperatively, so hono's typed `hc` client has no route
 * types to offer; these few typed calls are cheaper than reshaping the server.)
 */
import { z } from "zod";
import {
  CreatedEnrollmentToken,
  Job,
  JobAccepted,
  JobLogsResponse,
  LoginResponse,
  Machine,
  Repository,
  Role,
} from "../shared/protocol/api.ts";

/** GET /api/auth/me (no protocol schema yet; this is the shape the route answers). */
export const Me = z.object({
  id: z.number().int().nullable().optional(),
  username: z.string(),
  role: Role,
  via: z.string().optional(),
});
export type Me = z.infer<typeof Me>;

const ErrorBody = z.object({ error: z.string(), code: z.string().optional() });

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let onUnauthorized: () => void = () => {};

/** The app's "show the login page" hook, called on any 401 but the login's own. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** The message to show for anything a call threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

async function request<T>(
  method: string,
  path: string,
  schema: z.ZodType<T> | null,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "cannot reach the hub; check that it is running");
  }
  if (!response.ok) {
    const parsed = ErrorBody.safeParse(await response.json().catch(() => null));
    const message = parsed.success
      ? parsed.data.error
      : `the hub answered ${response.status} ${response.statusText}`;
    const code = parsed.success ? (parsed.data.code ?? "unknown") : "unknown";
    if (response.status === 401 && path !== "/api/auth/login") onUnauthorized();
    throw new ApiError(response.status, code, message);
  }
  if (schema === null) return undefined as T;
  const decoded = schema.safeParse(await response.json().catch(() => undefined));
  if (!decoded.success) {
    throw new ApiError(response.status, "bad_response", `unexpected answer from ${path}`);
  }
  return decoded.data;
}

export interface JobFilter {
  status?: string;
  repository_id?: number;
  agent_machine_id?: number;
  limit?: number;
}

function query(params: object): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== "");
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
}

export const api = {
  login: (username: string, password: string) =>
    request("POST", "/api/auth/login", LoginResponse, { username, password }),
  logout: () => request("POST", "/api/auth/logout", null),
  me: () => request("GET", "/api/auth/me", Me),

  machines: () => request("GET", "/api/managed-machines", z.array(Machine)),
  createEnrollmentToken: (name: string, expiresInMinutes = 60) =>
    request("POST", "/api/managed-machines/enrollment-tokens", CreatedEnrollmentToken, {
      name,
      expires_in_minutes: expiresInMinutes,
    }),
  revokeMachine: (id: number) =>
    request("POST", `/api/managed-machines/${id}/revoke`, Machine, undefined),

  repositories: () => request("GET", "/api/repositories", z.array(Repository)),
  backupNow: (id: number) => request("POST", `/api/repositories/${id}/backup`, JobAccepted, {}),

  jobs: (filter: JobFilter = {}) => request("GET", `/api/jobs${query(filter)}`, z.array(Job)),
  job: (id: number) => request("GET", `/api/jobs/${id}`, Job),
  jobLogs: (id: number) => request("GET", `/api/jobs/${id}/logs`, JobLogsResponse),
  cancelJob: (id: number) => request("POST", `/api/jobs/${id}/cancel`, z.object({}).loose()),
};
