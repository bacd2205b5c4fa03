/**
 * Settings → Notifications in a real browser (chromium via playwright-core) against the
 * compiled hub: an admin creates a webhook channel with a signing secret, presses
 * "Send test", and the hub's own outbox sender delivers it to a receiver this test runs
 * on 127.0.0.1, which checks X-Borgctl-Signature; the delivery log shows it sent; the
 * channel is disabled and enabled again; the secret is never shown or returned.
 * Screenshot: test-output/ui/settings-notifications.png.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite } from "../helpers/browser-suite.ts";

const ADMIN_PASSWORD = "e2e-ui-notifications-admin-password";
const SECRET = "ui-webhook-signing-secret-2026";

const suite = browserSuite({ name: "notify", adminPassword: ADMIN_PASSWORD });
const received: { body: string; signature: string | null }[] = [];
let receiver: ReturnType<typeof Bun.serve> | undefined;

beforeAll(() => {
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      received.push({
        body: await request.text(),
        signature: request.headers.get("x-borgctl-signature"),
      });
      return new Response(null, { status: 204 });
    },
  });
});
afterAll(() => {
  receiver?.stop(true);
});

describe("notification channels in chromium against the compiled hub", () => {
  test("create a webhook, send a test, read the delivery log, disable and enable", async () => {
    const url = await suite.startHub({ args: ["--public-url", "https://hub.example.com"] });
    const { page, problems, api } = await suite.signIn(url, {
      viewport: { width: 1200, height: 900 },
    });

    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Notifications" }).waitFor();
    await page.getByText("No channels yet").waitFor();

    const form = page.getByRole("form", { name: "new notification channel" });
    await form.getByLabel("Channel name").fill("ops webhook");
    await form.getByLabel("Kind").selectOption("webhook");
    await form.getByLabel("URL").fill(`http://127.0.0.1:${receiver?.port}/hook`);
    await form.getByLabel("Signing secret").fill(SECRET);
    await form.getByLabel("a job succeeded").check();
    await form.getByRole("button", { name: "Create channel" }).click();

    const row = page.locator('tr[data-channel="ops webhook"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("Webhook");
    expect(await page.content()).not.toContain(SECRET);

    await row.getByRole("button", { name: "Send test" }).click();
    const log = page.getByRole("region", { name: "deliveries of ops webhook" });
    await log.getByText("Sent").waitFor({ timeout: 20_000 });
    await screenshot(page, "settings-notifications");

    expect(received).toHaveLength(1);
    const got = received[0] as { body: string; signature: string | null };
    expect(got.signature).toBe(
      `sha256=${createHmac("sha256", SECRET).update(got.body).digest("hex")}`,
    );
    expect(JSON.parse(got.body)).toMatchObject({
      event: "test",
      url: "https://hub.example.com/settings",
    });

    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByText("disabled").waitFor();
    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByText("enabled").waitFor();

    const listed = await api("GET", "/api/notification-channels");
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject([
      {
        name: "ops webhook",
        type: "webhook",
        enabled: true,
        events: expect.arrayContaining(["job.failed", "job.succeeded"]),
        config: { secret: "set" },
      },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect(problems).toEqual([]);
  }, 120_000);
});
