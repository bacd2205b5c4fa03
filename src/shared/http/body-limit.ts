/**
 * The request body limit: hono's bodyLimit, refusing with AppError("payload_too_large")
 * so an oversized body gets the one error shape (413) like every other refusal.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";

export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError("payload_too_large", `request body over ${maxBytes} bytes`);
    },
  });
}
