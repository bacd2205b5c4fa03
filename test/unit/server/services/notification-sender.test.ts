/**
 * The sender's pure parts: the retry schedule meets API.md (at least 5 attempts over at
 * least 10 minutes) and attempt errors lose the channel's secrets and URLs.
 */
import { describe, expect, test } from "bun:test";
import type { NotificationChannelRow } from "../../../../src/server/db/records.ts";
import {
  ATTEMPT_TIMEOUT_MS,
  CLAIM_MS,
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
  redactAttemptError,
} from "../../../../src/server/services/notification-sender.ts";

const channel = (config: Record<string, unknown>): NotificationChannelRow => ({
  id: 1,
  name: "c",
  type: "webhook",
  config,
  sealedSecret: null,
  events: ["job.failed"],
  enabled: true,
  cooldownSeconds: 0,
  createdAt: 0,
  updatedAt: 0,
});

describe("retries", () => {
  test("at least 5 attempts spread over at least 10 minutes; an attempt ends inside its claim", () => {
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(5);
    const span = RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0);
    expect(span).toBeGreaterThanOrEqual(10 * 60_000);
    expect([...RETRY_DELAYS_MS]).toEqual([...RETRY_DELAYS_MS].sort((a, b) => a - b));
    expect(ATTEMPT_TIMEOUT_MS * 2).toBeLessThanOrEqual(CLAIM_MS);
  });
});

describe("redactAttemptError", () => {
  test("secrets and configured URLs are cut out; other URLs lose path and query", () => {
    const url = "https://hc-ping.com/5f2c1d8e-secret-uuid";
    const text = redactAttemptError(
      `fetch ${url}/fail failed; token tk_abcdef; see https://proxy.example/x?token=1 and smtp://u:pw@mail.example:587/`,
      channel({ url }),
      { token: "tk_abcdef" },
    );
    expect(text).not.toContain("5f2c1d8e");
    expect(text).not.toContain("tk_abcdef");
    expect(text).not.toContain("token=1");
    expect(text).not.toContain("pw@");
    expect(text).toContain("[redacted]");
    expect(text).toContain("https://proxy.example/…");
    expect(redactAttemptError("x".repeat(2000), channel({}), {}).length).toBe(500);
  });
});
