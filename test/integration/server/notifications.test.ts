/**
 * Notifications end to end on the real app and real SQLite, against real receivers this
 * file starts on 127.0.0.1: a webhook server that verifies X-Borgctl-Signature over the
 * raw body and answers 500 twice before 200, ntfy and Healthchecks endpoints that check
 * paths and headers, and an SMTP sink (the smtp-server package) that takes the mail with
 * AUTH. The sender is driven pass by pass (runNotificationPass) with the test hub's fake
 * clock, so backoff is stepped through, never slept through.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { refreshAllBoxes } from "../../../src/server/services/boxes.ts";
import { publishHubEvent } from "../../../src/server/services/hub-events.ts";
import { sweepOfflineAgents } from "../../../src/server/services/machines.ts";
import {
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
  runNotificationPass,
} from "../../../src/server/services/notification-sender.ts";
import { runScheduler } from "../../../src/server/services/scheduler.ts";
import {
  NotificationChannel,
  NotificationDelivery,
  TestAccepted,
} from "../../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { startHttpOnlyBox } from "../../helpers/box.ts";
import { createTestHub, type TestHub } from "../../helpers/hub.ts";
import { addAgentMachine, createRepository } from "../../helpers/hub-fixtures.ts";

const PUBLIC_URL = "https://hub.example.com";
const WEBHOOK_SECRET = "webhook-signing-secret-0123456789";
const NTFY_TOKEN = "tk_ntfy_token_for_tests_4242";
const SMTP_PASSWORD = "smtp-password-for-tests-7";

// --- receivers ---------------------------------------------------------------------------

interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** An HTTP receiver on 127.0.0.1 answering with `answer(request number)`. */
function receiver(answer: (n: number, got: Received) => number) {
  const got: Received[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const entry = {
        path: new URL(request.url).pathname,
        headers: request.headers,
        body: await request.text(),
      };
      got.push(entry);
      return new Response(null, { status: answer(got.length, entry) });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, got, stop: () => server.stop(true) };
}

interface Mail {
  from: string;
  to: string[];
  user: string;
  raw: string;
}

/** An SMTP sink on 127.0.0.1 that requires AUTH (PLAIN/LOGIN) with one user's password. */
async function smtpSink(options: { starttls: boolean }) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: options.starttls ? [] : ["STARTTLS"],
    onAuth(auth, _session, callback) {
      if (auth.username === "alerts" && auth.password === SMTP_PASSWORD) {
        callback(null, { user: auth.username });
      } else callback(new Error("535 authentication failed"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: String(session.user),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
    logger: false,
  });
  // A client that gives up mid-session (a refused STARTTLS, a wrong password) resets its
  // connection; smtp-server reports that as an "error" event, which is not a test failure.
  const serverErrors: Error[] = [];
  server.on("error", (error) => serverErrors.push(error));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

// --- helpers -----------------------------------------------------------------------------

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newHub(path?: string, settings: { boxLowSpacePercent?: number } = {}): TestHub {
  const hub = createTestHub({ path, settings: { publicUrl: PUBLIC_URL, ...settings } });
  stops.push(() => hub.close());
  return hub;
}

async function createChannel(hub: TestHub, admin: string, body: Record<string, unknown>) {
  const created = await hub.request("POST", "/api/notification-channels", { token: admin, body });
  if (created.status !== 201) throw new Error(`channel: ${created.status} ${created.text}`);
  return NotificationChannel.parse(created.body);
}

async function deliveries(hub: TestHub, admin: string, channelId: number) {
  const listed = await hub.request("GET", `/api/notification-channels/${channelId}/deliveries`, {
    token: admin,
  });
  expect(listed.status).toBe(200);
  return (listed.body as unknown[]).map((d) => NotificationDelivery.parse(d));
}

/** A backup job of a new repository, claimed and started by its agent, then failed with logs. */
async function failBackup(hub: TestHub, admin: string, options: { logLines?: string[] } = {}) {
  const agent = await addAgentMachine(hub, { name: "web-1" });
  const repository = await createRepository(hub, admin, agent.machineId, { name: "web-1-home" });
  const queued = await hub.request("POST", `/api/repositories/${repository.id}/backup`, {
    token: admin,
    body: {},
  });
  expect(queued.status).toBe(202);
  const jobId = (queued.body as { job_id: number }).job_id;
  const call = (path: string, body?: unknown) =>
    hub.request("POST", `/api/agents/jobs/${jobId}${path}`, { agentToken: agent.token, body });
  expect((await call("/claim")).status).toBe(200);
  expect((await call("/start", {})).status).toBe(200);
  const lines = options.logLines ?? [];
  if (lines.length > 0) {
    const entries = lines.map((message, sequence) => ({
      sequence,
      stream: "stderr",
      message,
      created_at: new Date(hub.now()).toISOString(),
    }));
    for (let i = 0; i < entries.length; i += 500) {
      expect((await call("/logs", { entries: entries.slice(i, i + 500) })).status).toBe(200);
    }
  }
  expect(
    (
      await call("/fail", {
        completed_at: new Date(hub.now()).toISOString(),
        error_message: "borg create exited with code 2",
        return_code: 2,
      })
    ).status,
  ).toBe(200);
  return { jobId, repository, agent };
}

/** RFC 2047 Q-encoded words (as nodemailer writes a long Subject) back to text. */
const decodeHeaders = (raw: string) =>
  raw.replace(/\?=\s+=\?/g, "?==?").replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, text: string) =>
    Buffer.from(
      text
        .replace(/_/g, " ")
        .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        ),
      "latin1",
    ).toString("utf8"),
  );

const sign = (body: string) =>
  `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;

// --- tests -------------------------------------------------------------------------------

describe("webhook", () => {
  test("signed, retried after two 500s, delivered once; the log shows each attempt", async () => {
    const hub = newHub();
    const admin = await hub.login();
    let bad = 0;
    const hook = receiver((n, got) => {
      if (got.headers.get("x-borgctl-signature") !== sign(got.body)) {
        bad += 1;
        return 401;
      }
      return n <= 2 ? 500 : 200;
    });
    stops.push(hook.stop);
    const channel = await createChannel(hub, admin, {
      name: "ops webhook",
      type: "webhook",
      config: { url: `${hook.url}/borgctl`, secret: WEBHOOK_SECRET },
      events: ["job.failed"],
    });
    expect(channel.config).toEqual({ url: `${hook.url}/borgctl`, secret: "set" });

    const { jobId, repository } = await failBackup(hub, admin);
    // Queued by the job's end, before any attempt.
    const [queued] = await deliveries(hub, admin, channel.id);
    expect(queued).toMatchObject({ event: "job.failed", status: "pending", attempts: 0 });

    await runNotificationPass(hub.deps);
    let [row] = await deliveries(hub, admin, channel.id);
    expect(row).toMatchObject({
      status: "pending",
      attempts: 1,
      last_error: "HTTP 500 Internal Server Error",
    });
    // Not due again before its backoff.
    hub.tick((RETRY_DELAYS_MS[0] as number) - 1000);
    expect(await runNotificationPass(hub.deps)).toEqual([]);
    hub.tick(1000);
    await runNotificationPass(hub.deps);
    hub.tick(RETRY_DELAYS_MS[1] as number);
    await runNotificationPass(hub.deps);
    [row] = await deliveries(hub, admin, channel.id);
    expect(row).toMatchObject({ status: "sent", attempts: 3 });
    expect(row?.attempt_log.map((a) => [a.ok, a.http_status])).toEqual([
      [false, 500],
      [false, 500],
      [true, 200],
    ]);
    hub.tick(24 * 3600_000);
    expect(await runNotificationPass(hub.deps)).toEqual([]);
    expect(hook.got).toHaveLength(3);
    expect(bad).toBe(0);

    const body = JSON.parse(hook.got[2]?.body ?? "{}");
    expect(hook.got[2]?.path).toBe("/borgctl");
    expect(hook.got[2]?.headers.get("content-type")).toBe("application/json");
    // One delivery id on every retry, so a receiver can drop a duplicate.
    expect(new Set(hook.got.map((g) => g.headers.get("x-borgctl-delivery")))).toEqual(
      new Set([String(row?.id)]),
    );
    expect(hook.got[2]?.headers.get("x-borgctl-event")).toBe("job.failed");
    expect(body).toMatchObject({
      event: "job.failed",
      summary: 'Backup of "web-1-home" on "web-1" failed: borg create exited with code 2',
      url: `${PUBLIC_URL}/jobs/${jobId}`,
      repository: { id: repository.id, name: "web-1-home" },
      machine: { name: "web-1" },
      job: { id: jobId, kind: "backup.create", status: "failed" },
    });
    expect(Date.parse(body.occurred_at)).toBeNumber();
    // No passphrase, no secret in what left the hub or in its logs.
    const everything = `${hook.got.map((g) => g.body).join("\n")}\n${hub.logLines.join("\n")}`;
    expect(everything).not.toContain("passphrase-");
    expect(everything).not.toContain(WEBHOOK_SECRET);
  });

  test("gives up after the last attempt, at least 10 minutes after the first", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const down = receiver(() => 503);
    stops.push(down.stop);
    const channel = await createChannel(hub, admin, {
      name: "down",
      type: "webhook",
      config: { url: down.url },
      events: ["machine.offline"],
    });
    await publishHubEvent(hub.deps, {
      type: "machine.offline",
      machine: { id: 1, name: "db-1" },
      lastSeenAt: hub.now() - 600_000,
    });
    const first = hub.now();
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      expect(await runNotificationPass(hub.deps)).toHaveLength(1);
      if (i < RETRY_DELAYS_MS.length) hub.tick(RETRY_DELAYS_MS[i] as number);
    }
    const [row] = await deliveries(hub, admin, channel.id);
    expect(row).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, next_attempt_at: null });
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(5);
    const attempts = row?.attempt_log.map((a) => Date.parse(a.at)) ?? [];
    expect((attempts.at(-1) as number) - first).toBeGreaterThanOrEqual(10 * 60_000);
    hub.tick(7 * 24 * 3600_000);
    expect(await runNotificationPass(hub.deps)).toEqual([]);
    expect(down.got).toHaveLength(MAX_ATTEMPTS);
    // No signature without a secret.
    expect(down.got[0]?.headers.get("x-borgctl-signature")).toBeNull();
  });

  test("a hub restart between a failed attempt and delivery loses nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "borgctl-notify-restart-"));
    dirs.push(dir);
    const path = join(dir, "hub.sqlite");
    const first = newHub(path);
    const admin = await first.login();
    const hook = receiver((n) => (n === 1 ? 500 : 200));
    stops.push(hook.stop);
    const channel = await createChannel(first, admin, {
      name: "restart",
      type: "webhook",
      config: { url: hook.url, secret: WEBHOOK_SECRET },
      events: ["repository.overdue"],
    });
    await publishHubEvent(first.deps, {
      type: "repository.overdue",
      repository: { id: 7, name: "mail-archive" },
      overdueSince: first.now() - 3600_000,
      lastSuccessAt: first.now() - 3 * 86_400_000,
    });
    expect((await runNotificationPass(first.deps))[0]).toMatchObject({
      status: "pending",
      attempts: 1,
    });
    first.close();

    const second = newHub(path);
    const admin2 = await second.login();
    second.tick(RETRY_DELAYS_MS[0] as number);
    expect((await runNotificationPass(second.deps))[0]).toMatchObject({
      status: "sent",
      attempts: 2,
    });
    expect(hook.got).toHaveLength(2);
    // The same signed bytes both times (the message is stored, not rebuilt).
    expect(hook.got[1]?.body).toBe(hook.got[0]?.body as string);
    expect(hook.got[1]?.headers.get("x-borgctl-signature")).toBe(sign(hook.got[1]?.body ?? ""));
    expect(JSON.parse(hook.got[1]?.body ?? "{}")).toMatchObject({
      event: "repository.overdue",
      url: `${PUBLIC_URL}/repositories/7`,
      repository: { id: 7, name: "mail-archive" },
    });
    expect((await deliveries(second, admin2, channel.id))[0]?.status).toBe("sent");
  });
});

describe("cooldown and filters", () => {
  test("an overdue repository published every minute notifies once per cooldown", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const hook = receiver(() => 204);
    stops.push(hook.stop);
    const channel = await createChannel(hub, admin, {
      name: "overdue",
      type: "webhook",
      config: { url: hook.url },
      events: ["repository.overdue"],
      cooldown_minutes: 60,
    });
    const other = await createChannel(hub, admin, {
      name: "failures only",
      type: "webhook",
      config: { url: hook.url },
      events: ["job.failed"],
    });
    const overdue = (id: number) =>
      publishHubEvent(hub.deps, {
        type: "repository.overdue",
        repository: { id, name: `repo-${id}` },
        overdueSince: hub.now() - 60_000,
        lastSuccessAt: null,
      });
    for (let minute = 0; minute < 59; minute++) {
      await overdue(1);
      hub.tick(60_000);
    }
    // Another repository is another subject: its own notification.
    await overdue(2);
    await runNotificationPass(hub.deps);
    expect(hook.got).toHaveLength(2);
    hub.tick(61_000); // an hour and a bit after the first
    await overdue(1);
    await overdue(1);
    await runNotificationPass(hub.deps);
    expect(hook.got).toHaveLength(3);
    expect((await deliveries(hub, admin, channel.id)).map((d) => d.status)).toEqual([
      "sent",
      "sent",
      "sent",
    ]);
    expect(await deliveries(hub, admin, other.id)).toEqual([]);
  });

  test("a disabled channel gets nothing; the offline sweep publishes machine.offline", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const hook = receiver(() => 200);
    stops.push(hook.stop);
    const channel = await createChannel(hub, admin, {
      name: "machines",
      type: "webhook",
      config: { url: hook.url },
      events: ["machine.offline"],
      enabled: false,
    });
    const agent = await addAgentMachine(hub, { name: "nas" });
    await hub.deps.store.machines.recordHeartbeat(agent.machineId, {}, hub.now());
    hub.tick(hub.deps.settings.offlineAfterMs + 1000);
    await sweepOfflineAgents(hub.deps);
    expect(await deliveries(hub, admin, channel.id)).toEqual([]);

    const enabled = await hub.request("PATCH", `/api/notification-channels/${channel.id}`, {
      token: admin,
      body: { enabled: true },
    });
    expect(NotificationChannel.parse(enabled.body).enabled).toBe(true);
    await hub.deps.store.machines.recordHeartbeat(agent.machineId, {}, hub.now());
    hub.tick(hub.deps.settings.offlineAfterMs + 1000);
    await sweepOfflineAgents(hub.deps);
    await runNotificationPass(hub.deps);
    expect(hook.got).toHaveLength(1);
    expect(JSON.parse(hook.got[0]?.body ?? "{}")).toMatchObject({
      event: "machine.offline",
      machine: { id: agent.machineId, name: "nas" },
      url: `${PUBLIC_URL}/machines`,
    });
  });
});

describe("box and plan events", () => {
  async function registerBox(hub: TestHub, admin: string) {
    const box = await startHttpOnlyBox();
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= box.stop();
      return stopped;
    };
    stops.push(stop);
    const created = await hub.request("POST", "/api/boxes", {
      token: admin,
      body: { name: "nas-box", url: box.url, token: box.token },
    });
    expect(created.status).toBe(201);
    return { stop, id: (created.body as { id: number }).id };
  }

  test("box.offline on the refresh that finds the box down, again only after the cooldown", async () => {
    const hub = newHub(undefined, { boxLowSpacePercent: 0 });
    const admin = await hub.login();
    const hook = receiver(() => 204);
    stops.push(hook.stop);
    const channel = await createChannel(hub, admin, {
      name: "boxes",
      type: "webhook",
      config: { url: hook.url },
      events: ["box.offline", "box.low_space"],
      cooldown_minutes: 30,
    });
    const { stop, id } = await registerBox(hub, admin);
    await refreshAllBoxes(hub.deps);
    expect(await deliveries(hub, admin, channel.id)).toEqual([]); // online, space not checked
    await stop();
    await refreshAllBoxes(hub.deps);
    expect((await hub.deps.store.boxes.byId(id))?.status).toBe("offline");
    for (let minute = 0; minute < 29; minute++) {
      hub.tick(60_000);
      await refreshAllBoxes(hub.deps);
    }
    expect((await deliveries(hub, admin, channel.id)).map((d) => d.event)).toEqual(["box.offline"]);
    hub.tick(61_000); // the cooldown is over: the box is still down, so it is said again
    await refreshAllBoxes(hub.deps);
    const listed = await deliveries(hub, admin, channel.id);
    expect(listed.map((d) => d.event)).toEqual(["box.offline", "box.offline"]);
    expect(listed[0]?.summary).toBe('Storage box "nas-box" is offline');
    await runNotificationPass(hub.deps);
    expect(JSON.parse(hook.got[0]?.body ?? "{}")).toMatchObject({
      event: "box.offline",
      box: { id, name: "nas-box" },
      url: `${PUBLIC_URL}/boxes`,
    });
  });

  test("box.low_space when free/total is below box_low_space_percent, with the box's numbers", async () => {
    // 100 %: any real filesystem with data on it has less than all of it free.
    const hub = newHub(undefined, { boxLowSpacePercent: 100 });
    const admin = await hub.login();
    const hook = receiver(() => 204);
    stops.push(hook.stop);
    const channel = await createChannel(hub, admin, {
      name: "space",
      type: "webhook",
      config: { url: hook.url },
      events: ["box.low_space"],
    });
    const { id } = await registerBox(hub, admin);
    await refreshAllBoxes(hub.deps);
    const stored = await hub.deps.store.boxes.byId(id);
    const listed = await deliveries(hub, admin, channel.id);
    expect(listed.map((d) => d.event)).toEqual(["box.low_space"]);
    expect(listed[0]?.summary).toMatch(
      /^Storage box "nas-box" is low on space: [\d.]+ GiB free of [\d.]+ GiB$/,
    );
    await runNotificationPass(hub.deps);
    expect(JSON.parse(hook.got[0]?.body ?? "{}")).toMatchObject({
      event: "box.low_space",
      box: { id, name: "nas-box" },
      details: { free_bytes: stored?.freeBytes, total_bytes: stored?.totalBytes },
    });
  });

  test("plan.missed when the scheduler finds missed due times", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const channel = await createChannel(hub, admin, {
      name: "plans",
      type: "webhook",
      config: { url: "http://127.0.0.1:9/hook" },
      events: ["plan.missed"],
    });
    hub.tick(Date.parse("2025-06-01T12:00:00Z") - hub.now());
    const agent = await addAgentMachine(hub, { name: "web-1", status: "online" });
    const repository = await createRepository(hub, admin, agent.machineId, { name: "web-1-home" });
    const created = await hub.request("POST", "/api/plans", {
      token: admin,
      body: {
        name: "nightly",
        repository_id: repository.id,
        schedule: "0 2 * * *",
        missed_run: "skip",
      },
    });
    expect(created.status).toBe(201);
    await runScheduler(hub.deps);
    expect(await deliveries(hub, admin, channel.id)).toEqual([]); // nothing due yet
    hub.tick(Date.parse("2025-06-04T09:00:00Z") - hub.now()); // the hub was down three nights
    await runScheduler(hub.deps);
    const listed = await deliveries(hub, admin, channel.id);
    expect(listed.map((d) => d.summary)).toEqual([
      'Plan "nightly" of "web-1-home" missed 3 due times (the last at 2025-06-04T02:00:00.000Z)',
    ]);
  });
});

describe("ntfy and Healthchecks", () => {
  test("ntfy: topic path, bearer token, priority and title; the test message too", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const ntfy = receiver(() => 200);
    stops.push(ntfy.stop);
    const channel = await createChannel(hub, admin, {
      name: "phone",
      type: "ntfy",
      config: { url: `${ntfy.url}/borg-alerts`, token: NTFY_TOKEN, priority: 5 },
      events: ["job.failed", "job.succeeded"],
    });
    expect(channel.config).toEqual({ url: `${ntfy.url}/borg-alerts`, token: "set", priority: 5 });
    const { jobId } = await failBackup(hub, admin);
    const test = await hub.request("POST", `/api/notification-channels/${channel.id}/test`, {
      token: admin,
    });
    expect(test.status).toBe(202);
    const { delivery_id } = TestAccepted.parse(test.body);
    await runNotificationPass(hub.deps);
    expect(ntfy.got).toHaveLength(2);
    for (const got of ntfy.got) {
      expect(got.path).toBe("/borg-alerts");
      expect(got.headers.get("authorization")).toBe(`Bearer ${NTFY_TOKEN}`);
      expect(got.headers.get("priority")).toBe("5");
    }
    const failed = ntfy.got.find((g) => g.headers.get("title") === "borgctl: job.failed");
    expect(failed?.body).toBe(
      `Backup of "web-1-home" on "web-1" failed: borg create exited with code 2\n${PUBLIC_URL}/jobs/${jobId}`,
    );
    expect(failed?.headers.get("click")).toBe(`${PUBLIC_URL}/jobs/${jobId}`);
    const sent = await deliveries(hub, admin, channel.id);
    expect(sent.find((d) => d.id === delivery_id)).toMatchObject({ event: "test", status: "sent" });
    expect(hub.logLines.join("\n")).not.toContain(NTFY_TOKEN);
  });

  test("Healthchecks: /start, /fail with the log tail (≤ 100 kB), success, for its repository only", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const hc = receiver(() => 200);
    stops.push(hc.stop);
    const ping = `${hc.url}/ping/5f2c1d8e-uuid`;
    // A log bigger than 100 kB: only its newest lines are sent.
    const lines = Array.from({ length: 1500 }, (_, i) => `line ${i} ${"x".repeat(100)}`);
    const other = await createChannel(hub, admin, {
      name: "hc other repository",
      type: "healthchecks",
      config: { url: `${hc.url}/other`, repository_id: 999 },
      events: ["job.failed", "job.succeeded"],
    });
    await createChannel(hub, admin, {
      name: "hc",
      type: "healthchecks",
      config: { url: ping },
      events: ["job.failed", "job.succeeded", "job.warning"],
    });
    const { repository, agent } = await failBackup(hub, admin, { logLines: lines });
    await runNotificationPass(hub.deps);
    expect(hc.got.map((g) => g.path)).toEqual([
      "/ping/5f2c1d8e-uuid/start",
      "/ping/5f2c1d8e-uuid/fail",
    ]);
    const tail = hc.got[1]?.body ?? "";
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(100 * 1024);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(90 * 1024);
    expect(tail.endsWith(lines.at(-1) as string)).toBe(true);
    expect(tail).not.toContain("line 0 ");

    // A successful backup of the same repository: start, then the bare URL.
    const queued = await hub.request("POST", `/api/repositories/${repository.id}/backup`, {
      token: admin,
      body: {},
    });
    const jobId = (queued.body as { job_id: number }).job_id;
    const call = (path: string, body?: unknown) =>
      hub.request("POST", `/api/agents/jobs/${jobId}${path}`, { agentToken: agent.token, body });
    await call("/claim");
    await call("/start", {});
    const done = await call("/complete", {
      completed_at: new Date(hub.now()).toISOString(),
      result: {
        return_code: 0,
        archive_name: "web-1-2026",
        stats: { original_size: 1, compressed_size: 1, deduplicated_size: 1, nfiles: 1 },
      },
    });
    expect(done.status).toBe(200);
    await runNotificationPass(hub.deps);
    expect(hc.got.map((g) => g.path).slice(2)).toEqual([
      "/ping/5f2c1d8e-uuid/start",
      "/ping/5f2c1d8e-uuid",
    ]);
    expect(await deliveries(hub, admin, other.id)).toEqual([]);
  });
});

describe("email over SMTP", () => {
  test("the mail arrives with AUTH: subject, body with the hub's link, no secrets", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const smtp = await smtpSink({ starttls: false });
    stops.push(smtp.stop);
    const channel = await createChannel(hub, admin, {
      name: "mail",
      type: "email",
      config: {
        smtp_url: `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
        security: "none",
        from: "borgctl@example.com",
        to: ["oncall@example.com", "boss@example.com"],
      },
      events: ["job.failed"],
    });
    // The password left the URL and is stored sealed.
    expect(channel.config).toEqual({
      smtp_url: `smtp://alerts@127.0.0.1:${smtp.port}`,
      security: "none",
      password: "set",
      from: "borgctl@example.com",
      to: ["oncall@example.com", "boss@example.com"],
    });
    const { jobId } = await failBackup(hub, admin);
    const [sent] = await runNotificationPass(hub.deps);
    expect(sent).toMatchObject({ status: "sent", attempts: 1 });
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0] as Mail;
    expect(mail).toMatchObject({
      from: "borgctl@example.com",
      to: ["oncall@example.com", "boss@example.com"],
      user: "alerts",
    });
    const unfolded = decodeHeaders(mail.raw.replace(/\r\n[ \t]+/g, " "));
    expect(unfolded).toContain(
      'Subject: [borgctl] Backup of "web-1-home" on "web-1" failed: borg create exited with code 2',
    );
    expect(unfolded).toContain(`Details: ${PUBLIC_URL}/jobs/${jobId}`);
    expect(unfolded).toContain("Error: borg create exited with code 2");
    expect(mail.raw).not.toContain(SMTP_PASSWORD);
    expect(mail.raw).not.toContain("passphrase-");

    // The stored row holds neither the password nor the URL with it.
    const raw = JSON.stringify(await hub.sql("SELECT * FROM notification_channels"));
    expect(raw).not.toContain(SMTP_PASSWORD);
    expect(hub.logLines.join("\n")).not.toContain(SMTP_PASSWORD);
  });

  test("a wrong password and a server without STARTTLS are failed attempts, redacted", async () => {
    const hub = newHub();
    const admin = await hub.login();
    const smtp = await smtpSink({ starttls: false });
    stops.push(smtp.stop);
    const wrong = await createChannel(hub, admin, {
      name: "wrong password",
      type: "email",
      config: {
        smtp_url: `smtp://alerts@127.0.0.1:${smtp.port}`,
        security: "none",
        password: "not-the-password",
        from: "borgctl@example.com",
        to: ["oncall@example.com"],
      },
      events: ["job.failed"],
    });
    // STARTTLS is required by default on smtp://: never sent in the clear.
    const plain = await createChannel(hub, admin, {
      name: "no starttls",
      type: "email",
      config: {
        smtp_url: `smtp://alerts@127.0.0.1:${smtp.port}`,
        password: SMTP_PASSWORD,
        from: "borgctl@example.com",
        to: ["oncall@example.com"],
      },
      events: ["job.failed"],
    });
    for (const id of [wrong.id, plain.id]) {
      expect(
        (await hub.request("POST", `/api/notification-channels/${id}/test`, { token: admin }))
          .status,
      ).toBe(202);
    }
    await runNotificationPass(hub.deps);
    const [w] = await deliveries(hub, admin, wrong.id);
    const [p] = await deliveries(hub, admin, plain.id);
    expect(w).toMatchObject({ status: "pending", attempts: 1 });
    expect(w?.last_error).toContain("535");
    expect(p).toMatchObject({ status: "pending", attempts: 1 });
    expect(p?.last_error).toMatch(/STARTTLS/i);
    expect(smtp.mails).toEqual([]);
    expect(JSON.stringify([w, p])).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify([w, p])).not.toContain("not-the-password");
  });
});

describe("the channel API", () => {
  let hub: TestHub;
  let admin: string;
  beforeAll(async () => {
    hub = createTestHub({ settings: { publicUrl: PUBLIC_URL } });
    admin = await hub.login();
  });
  afterAll(() => hub.close());

  const expect400 = async (body: unknown, field: string, method = "POST", id?: number) => {
    const response = await hub.request(
      method,
      `/api/notification-channels${id === undefined ? "" : `/${id}`}`,
      { token: admin, body },
    );
    expect(response.status).toBe(400);
    const error = ErrorBody.parse(response.body);
    expect(error.code).toBe("validation_failed");
    expect(error.error).toContain(field);
  };

  test("bad URLs, kinds, events and fields are a 400 naming the field; nothing is stored", async () => {
    const base = { name: "x", type: "webhook", events: ["job.failed"] };
    for (const url of [
      "ftp://example.com/x",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "not a url",
      "http://",
    ]) {
      await expect400({ ...base, config: { url } }, "config.url");
    }
    await expect400(
      { ...base, config: { url: "https://x.example", secret: "short" } },
      "config.secret",
    );
    await expect400({ ...base, config: { url: "https://x.example", token: "t" } }, "token");
    await expect400(
      { ...base, config: { url: "https://x.example" }, events: ["job.exploded"] },
      "events",
    );
    await expect400({ ...base, config: { url: "https://x.example" }, events: [] }, "events");
    await expect400({ ...base, config: { url: "https://x.example" }, extra: 1 }, "extra");
    await expect400(
      {
        ...base,
        type: "email",
        config: {
          smtp_url: "https://mail.example.com",
          from: "a@example.com",
          to: ["b@example.com"],
        },
      },
      "config.smtp_url",
    );
    await expect400(
      { ...base, type: "ntfy", config: { url: "https://ntfy.sh/x", priority: 9 } },
      "config.priority",
    );
    const listed = await hub.request("GET", "/api/notification-channels", { token: admin });
    expect(listed.body).toEqual([]);
  });

  test('PATCH keeps a secret sent back as "set", replaces or removes it, checks config', async () => {
    const channel = await createChannel(hub, admin, {
      name: "patch me",
      type: "webhook",
      config: { url: "https://hooks.example.com/a", secret: WEBHOOK_SECRET },
      events: ["job.failed"],
    });
    const patch = (body: unknown) =>
      hub.request("PATCH", `/api/notification-channels/${channel.id}`, { token: admin, body });
    const kept = await patch({ config: { url: "https://hooks.example.com/b", secret: "set" } });
    expect(NotificationChannel.parse(kept.body).config).toEqual({
      url: "https://hooks.example.com/b",
      secret: "set",
    });
    const stored = await hub.deps.store.notifications.channelById(channel.id);
    expect(stored?.sealedSecret).not.toContain(WEBHOOK_SECRET);
    expect(hub.deps.secretBox.decrypt(stored?.sealedSecret ?? "")).toContain(WEBHOOK_SECRET);
    await expect400({ config: { url: "gopher://x" } }, "config.url", "PATCH", channel.id);
    await expect400({ config: { bogus: 1 } }, "config", "PATCH", channel.id);
    const removed = await patch({ config: { secret: null }, cooldown_minutes: 5 });
    expect(NotificationChannel.parse(removed.body)).toMatchObject({
      config: { url: "https://hooks.example.com/b" },
      cooldown_minutes: 5,
    });
    expect((await hub.deps.store.notifications.channelById(channel.id))?.sealedSecret).toBeNull();
    // A new smtp_url with user:password@ replaces the stored password and leaves the URL.
    const mail = await createChannel(hub, admin, {
      name: "mail patch",
      type: "email",
      config: {
        smtp_url: "smtps://a@mail.example.com",
        password: "first-password",
        from: "a@example.com",
        to: ["b@example.com"],
      },
      events: ["job.failed"],
    });
    const repointed = await hub.request("PATCH", `/api/notification-channels/${mail.id}`, {
      token: admin,
      body: { config: { smtp_url: "smtps://b:second-password@mail2.example.com:465" } },
    });
    expect(NotificationChannel.parse(repointed.body).config).toMatchObject({
      smtp_url: "smtps://b@mail2.example.com:465",
      password: "set",
    });
    const sealed = (await hub.deps.store.notifications.channelById(mail.id))?.sealedSecret ?? "";
    expect(hub.deps.secretBox.decrypt(sealed)).toBe('{"password":"second-password"}');
    // Names are unique.
    const clash = await hub.request("POST", "/api/notification-channels", {
      token: admin,
      body: {
        name: "patch me",
        type: "webhook",
        config: { url: "https://x.example" },
        events: ["job.failed"],
      },
    });
    expect(clash.status).toBe(409);
    // Deleting takes its deliveries along; then it is gone.
    expect(
      (await hub.request("POST", `/api/notification-channels/${channel.id}/test`, { token: admin }))
        .status,
    ).toBe(202);
    expect(
      (await hub.request("DELETE", `/api/notification-channels/${channel.id}`, { token: admin }))
        .status,
    ).toBe(204);
    expect(
      (await hub.request("GET", `/api/notification-channels/${channel.id}`, { token: admin }))
        .status,
    ).toBe(404);
    expect(await runNotificationPass(hub.deps)).toEqual([]);
    const audit = await hub.request("GET", "/api/audit?limit=100", { token: admin });
    expect(audit.text).toContain("notification_channel.update");
    expect(audit.text).not.toContain(WEBHOOK_SECRET);
  });
});
