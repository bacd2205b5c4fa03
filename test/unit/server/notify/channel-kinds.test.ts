/**
 * The channel kinds' pure parts: the webhook signature and body, ntfy's headers (RFC 2047
 * for a non-ASCII title, the default priority by event), Healthchecks' ping URLs, and
 * the mail's subject and text. Delivery to real receivers is
 * test/integration/server/notifications.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { DeliveryMessage } from "../../../../src/server/db/records.ts";
import { mailText } from "../../../../src/server/notify/email.ts";
import { pingUrl } from "../../../../src/server/notify/healthchecks.ts";
import { ntfyRequest } from "../../../../src/server/notify/ntfy.ts";
import { signBody, webhookBody } from "../../../../src/server/notify/webhook.ts";

const message: DeliveryMessage = {
  event: "job.failed",
  occurred_at: "2026-12-01T02:00:00.000Z",
  summary: 'Backup of "home" on "büro-pc" failed: exit 2',
  url: "https://hub.example.com/jobs/7",
  repository: { id: 3, name: "home" },
  machine: { id: 2, name: "büro-pc" },
  job: { id: 7, kind: "backup.create", status: "failed", error_message: "exit 2" },
  ping: "fail",
  log_tail: "the log",
};

describe("webhook", () => {
  test("the signature is the hex HMAC-SHA256 of the exact body", () => {
    const body = webhookBody(message);
    expect(signBody("k".repeat(16), body)).toBe(
      `sha256=${createHmac("sha256", "k".repeat(16)).update(body).digest("hex")}`,
    );
    expect(signBody("k".repeat(16), `${body} `)).not.toBe(signBody("k".repeat(16), body));
  });

  test("the body leaves out the Healthchecks-only fields", () => {
    const body = JSON.parse(webhookBody(message));
    expect(body.ping).toBeUndefined();
    expect(body.log_tail).toBeUndefined();
    expect(body).toMatchObject({ event: "job.failed", job: { id: 7 }, url: message.url });
  });
});

describe("ntfy", () => {
  test("title, priority by event unless configured, click link, bearer token", () => {
    const { headers, body } = ntfyRequest(message, { url: "https://ntfy.sh/x" }, "tk_1");
    expect(headers).toMatchObject({
      title: "borgctl: job.failed",
      priority: "4",
      tags: "x",
      click: message.url,
      authorization: "Bearer tk_1",
    });
    expect(body).toBe(`${message.summary}\n${message.url}`);
    const quiet = ntfyRequest(
      { ...message, event: "job.succeeded", url: null },
      { priority: 2 },
      undefined,
    );
    expect(quiet.headers.priority).toBe("2");
    expect(quiet.headers.authorization).toBeUndefined();
    expect(quiet.headers.click).toBeUndefined();
    expect(quiet.body).toBe(message.summary);
  });

  test("every header value is ASCII", () => {
    const { headers } = ntfyRequest({ ...message, event: "prüfung" }, {}, undefined);
    expect(headers.title).toBe(`=?UTF-8?B?${Buffer.from("borgctl: prüfung").toString("base64")}?=`);
    for (const value of Object.values(headers)) expect(value).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe("healthchecks", () => {
  test("start, success, fail and log URLs, with or without a trailing slash or query", () => {
    const base = "https://hc-ping.com/5f2c";
    expect(pingUrl(base, "start")).toBe("https://hc-ping.com/5f2c/start");
    expect(pingUrl(base, "success")).toBe("https://hc-ping.com/5f2c");
    expect(pingUrl(`${base}/`, "fail")).toBe("https://hc-ping.com/5f2c/fail");
    expect(pingUrl(`${base}?rid=1`, "log")).toBe("https://hc-ping.com/5f2c/log?rid=1");
  });
});

describe("email", () => {
  test("subject from the summary on one line; the body lists the facts and the link", () => {
    const { subject, text } = mailText({ ...message, summary: "line one\r\nline two" });
    expect(subject).toBe("[borgctl] line one line two");
    const { text: full } = mailText(message);
    expect(full).toContain("Machine: büro-pc\n");
    expect(full).toContain("Job: #7 backup.create, failed\n");
    expect(full).toContain("Error: exit 2\n");
    expect(full).toEndWith("Details: https://hub.example.com/jobs/7\n");
    expect(text).not.toContain("the log");
    expect(mailText({ ...message, url: null }).text).toContain("set public_url");
    expect(mailText({ ...message, summary: "x".repeat(500) }).subject.length).toBe(200);
  });
});
