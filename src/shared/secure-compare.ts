/**
 * Constant-time comparison of secrets. timingSafeEqual throws on unequal lengths (and
 * its timing would reveal the length), so both sides are hashed to 32 bytes first.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function secureEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
