/**
 * Wire shapes shared by every role: the one error body, and the closed set of error codes.
 * `error` stays a plain string so borgbox clients keep decoding it.
 */
import { z } from "zod";

export const ERROR_CODES = [
  "validation_failed",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "lease_lost",
  "protocol_unsupported",
  "borg_failed",
  "payload_too_large",
  "rate_limited",
  "unavailable",
  "internal",
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.string(),
  code: ErrorCode,
  details: z.unknown().optional(),
  request_id: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * A time one program sends another that checks it: an RFC 3339 date-time with an offset.
 * The agent protocol uses it both ways, since hub and agent may run different versions
 * and each validates what the other sends.
 */
export const Timestamp = z.iso.datetime({ offset: true });

/**
 * A time in an answer whose reader takes it as sent: the user API's (the hub writes
 * RFC 3339 UTC; its UI, from the same build, decodes it) and borgbox's (which writes ""
 * for "not yet"). Not checked, so no answer fails to decode over a time's format.
 */
export const UncheckedTimestamp = z.string();

// C0 controls and DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** One line of text (a name, a hostname, a version): no control characters at all. */
export const OneLine = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL_CHARS.test(s), "must be one line without control characters");

/**
 * Free text (a log line, an error message, a path as shown): anything but NUL, which no
 * C string, file name or environment variable can hold, so a NUL is never meant.
 */
export const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\0"), "must not contain a NUL character");
