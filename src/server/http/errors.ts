/**
 * The hub's onError and notFound are the shared ones (src/shared/http/errors.ts), so the
 * hub and the box answer failures alike; this name stays for the code that mounts them.
 */
export { errorHandler, notFound } from "../../shared/http/errors.ts";
