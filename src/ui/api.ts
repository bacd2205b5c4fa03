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
  ApiToken,
  Archives,
  ArchiveTree,
  AuditEvent,
  Box,
  BoxRepoList,
  type CreateApiTokenRequest,
  type CreateBoxRequest,
  CreatedApiToken,
  CreatedEnrollmentToken,
  type CreateNotificationChannelRequest,
  type CreateUserRequest,
  EnrollmentToken,
  Job,
  JobAccepted,
  JobLogsResponse,
  LoginResponse,
  Machine,
  Me,
  NotificationChannel,
  NotificationDelivery,
  Plan,
  PlanPreview,
  Repository,
  type RepositoryAction,
  RepositoryDetail,
  type RestoreRequest,
  type UpdateMachineRequest,
  type UpdateNotificationChannelRequest,
  type UpdateUserRequest,
  User,
} from "../shared/protocol/api.ts";
import { ErrorBody } from "../shared/protocol/common.ts";

// Every wire type is the protocol's; these names are what the pages import.
export type { Me, RepositoryAction, RepositoryDetail };
export type EnrollmentTokenInfo = z.infer<typeof EnrollmentToken>;
export type AuditEntry = z.infer<typeof AuditEvent>;

/**
 * A failure's body, read leniently: the message is shown whatever the code, so an answer
 * from a newer hub (a code this UI does not know) or without a code still says why.
 */
const FailureBody = ErrorBody.extend({ code: z.string().optional() });

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The hub's `details` (validation failures: `[{path, message}]`), when it sent any. */
    readonly details?: unknown,
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
    const parsed = FailureBody.safeParse(await response.json().catch(() => null));
    const message = parsed.success
      ? parsed.data.error
      : `the hub answered ${response.status} ${response.statusText}`;
    const code = parsed.success ? (parsed.data.code ?? "unknown") : "unknown";
    if (response.status === 401 && path !== "/api/auth/login") onUnauthorized();
    throw new ApiError(
      response.status,
      code,
      message,
      parsed.success ? parsed.data.details : undefined,
    );
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
  /** Only jobs with a smaller id (the next older page). */
  before?: number;
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
  disableMachine: (id: number) =>
    request("POST", `/api/managed-machines/${id}/disable`, Machine, undefined),
  enableMachine: (id: number) =>
    request("POST", `/api/managed-machines/${id}/enable`, Machine, undefined),
  deleteMachine: (id: number) => request("DELETE", `/api/managed-machines/${id}`, null),
  updateMachine: (id: number, change: z.input<typeof UpdateMachineRequest>) =>
    request("PATCH", `/api/managed-machines/${id}`, Machine, change),
  enrollmentTokens: () =>
    request("GET", "/api/managed-machines/enrollment-tokens", z.array(EnrollmentToken)),
  revokeEnrollmentToken: (id: number) =>
    request("DELETE", `/api/managed-machines/enrollment-tokens/${id}`, null),

  users: () => request("GET", "/api/users", z.array(User)),
  createUser: (user: z.input<typeof CreateUserRequest>) =>
    request("POST", "/api/users", User, user),
  updateUser: (id: number, change: z.input<typeof UpdateUserRequest>) =>
    request("PATCH", `/api/users/${id}`, User, change),
  deleteUser: (id: number) => request("DELETE", `/api/users/${id}`, null),

  tokens: () => request("GET", "/api/tokens", z.array(ApiToken)),
  createToken: (token: z.input<typeof CreateApiTokenRequest>) =>
    request("POST", "/api/tokens", CreatedApiToken, token),
  revokeToken: (id: number) => request("DELETE", `/api/tokens/${id}`, null),

  // Notification channels (admin): Settings → Notifications.
  channels: () => request("GET", "/api/notification-channels", z.array(NotificationChannel)),
  createChannel: (channel: z.input<typeof CreateNotificationChannelRequest>) =>
    request("POST", "/api/notification-channels", NotificationChannel, channel),
  updateChannel: (id: number, change: UpdateNotificationChannelRequest) =>
    request("PATCH", `/api/notification-channels/${id}`, NotificationChannel, change),
  deleteChannel: (id: number) => request("DELETE", `/api/notification-channels/${id}`, null),
  testChannel: (id: number) =>
    request("POST", `/api/notification-channels/${id}/test`, z.object({ delivery_id: z.number() })),
  deliveries: (id: number) =>
    request(
      "GET",
      `/api/notification-channels/${id}/deliveries?limit=20`,
      z.array(NotificationDelivery),
    ),

  repositories: () => request("GET", "/api/repositories", z.array(Repository)),
  backupNow: (id: number) => request("POST", `/api/repositories/${id}/backup`, JobAccepted, {}),
  repository: (id: number) => request("GET", `/api/repositories/${id}`, RepositoryDetail),
  createRepository: (body: Record<string, unknown>) =>
    request("POST", "/api/repositories", Repository, body),
  updateRepository: (id: number, change: Record<string, unknown>) =>
    request("PATCH", `/api/repositories/${id}`, Repository, change),
  /** A box repository deleted without purge answers 200 with what stays on the box. */
  deleteRepository: (id: number, purge = false) =>
    request(
      "DELETE",
      `/api/repositories/${id}${purge ? "?purge=true" : ""}`,
      z.object({ message: z.string() }).optional(),
    ),
  repositoryAction: (id: number, action: RepositoryAction, body: Record<string, unknown> = {}) =>
    request("POST", `/api/repositories/${id}/${action}`, JobAccepted, body),
  archives: (id: number) => request("GET", `/api/repositories/${id}/archives`, Archives),
  /** One level (or search hits) of an archive, or the listing job the hub queued first. */
  archiveTree: (id: number, archive: string, path: string, q?: string) =>
    request(
      "GET",
      `/api/repositories/${id}/archives/${encodeURIComponent(archive)}/tree${query({ path, q })}`,
      z.union([ArchiveTree, JobAccepted]),
    ),
  /** Where a plain link downloads one file of an archive (the session cookie goes along). */
  downloadUrl: (id: number, archive: string, path: string) =>
    `/api/repositories/${id}/archives/${encodeURIComponent(archive)}/download${query({ path })}`,
  restore: (id: number, body: z.input<typeof RestoreRequest>) =>
    request("POST", `/api/repositories/${id}/restore`, JobAccepted, body),

  jobs: (filter: JobFilter = {}) => request("GET", `/api/jobs${query(filter)}`, z.array(Job)),
  job: (id: number) => request("GET", `/api/jobs/${id}`, Job),
  jobLogs: (id: number) => request("GET", `/api/jobs/${id}/logs`, JobLogsResponse),
  audit: (filter: { limit?: number; before?: number; action?: string } = {}) =>
    request("GET", `/api/audit${query(filter)}`, z.array(AuditEvent)),
  boxes: () => request("GET", "/api/boxes", z.array(Box)),
  createBox: (box: z.input<typeof CreateBoxRequest>) => request("POST", "/api/boxes", Box, box),
  deleteBox: (id: number) => request("DELETE", `/api/boxes/${id}`, null),
  boxRepos: (id: number) => request("GET", `/api/boxes/${id}/repos`, BoxRepoList),
  plans: (repositoryId?: number) =>
    request("GET", `/api/plans${query({ repository_id: repositoryId })}`, z.array(Plan)),
  createPlan: (body: Record<string, unknown>) => request("POST", "/api/plans", Plan, body),
  updatePlan: (id: number, change: Record<string, unknown>) =>
    request("PATCH", `/api/plans/${id}`, Plan, change),
  deletePlan: (id: number) => request("DELETE", `/api/plans/${id}`, null),
  runPlan: (id: number) => request("POST", `/api/plans/${id}/run`, JobAccepted, undefined),
  previewPlan: (schedule: string, timezone: string) =>
    request("GET", `/api/plans/preview${query({ schedule, timezone })}`, PlanPreview),

  cancelJob: (id: number) => request("POST", `/api/jobs/${id}/cancel`, z.object({}).loose()),
};
