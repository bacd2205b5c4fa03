/**
 * The one application error type and the one table that maps its codes to HTTP status.
 * Services throw AppError; each app has exactly one onError that renders it as ErrorBody.
 */
import type { ErrorBody, ErrorCode } from "./protocol/common.ts";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  lease_lost: 409,
  protocol_unsupported: 426,
  payload_too_large: 413,
  rate_limited: 429,
  borg_failed: 502,
  // A dependency (the hub's PostgreSQL) is unreachable for now: retry later, unlike 500.
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { error: this.message, code: this.code }
      : { error: this.message, code: this.code, details: this.details };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
