/**
 * Storage boxes in the web UI, in a real browser (Debian's chromium via playwright-core)
 * against the compiled hub and a real box (its HTTP API, in this process): register a box
 * (a wrong token is refused with the box's reason, shown on the form), see it online with
 * its free space, see a machine's SSH key on the machines page, create an append-only
 * repository "Store on" the box in one press, see where it lives, and see the repo in
 * the box's list. The machine is a protocol-speaking fake agent with a real SSH key (no
 * backup runs here: test/integration/server/boxes.test.ts runs them over SSH).
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CreatedEnrollmentToken, Repository } from "../../src/shared/protocol/api.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite } from "../helpers/browser-suite.ts";
import { FakeAgent } from "../helpers/fake-agent.ts";
import { generateKey } from "../helpers/sshd.ts";

const ADMIN_PASSWORD = "e2e-ui-boxes-admin-password";

const suite = browserSuite({ name: "boxes", adminPassword: ADMIN_PASSWORD, box: true });

describe("storage boxes in the web UI", () => {
  test("register a box, see it online, create an append-only repository on it in one press", async () => {
    const box = suite.box;
    const url = await suite.startHub();
    const { context, page, problems, api } = await suite.signIn(url, {
      viewport: { width: 1200, height: 900 },
    });

    await page.getByRole("link", { name: "Boxes" }).click();
    await page.getByRole("heading", { name: "Storage boxes" }).waitFor();
    await page.getByText("No boxes yet").waitFor();
    await page.getByRole("button", { name: "Register box" }).click();
    await page.getByLabel("Name", { exact: true }).fill("nas");
    await page.getByLabel("URL", { exact: true }).fill(box.url);
    await page.getByLabel("Token", { exact: true }).fill("not-the-right-token-0123");
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "refused the token" }).waitFor();
    // That 400 is the browser's own network log line, not a problem of the page.
    problems.length = 0;
    await page.getByLabel("Token", { exact: true }).fill(box.token);
    await page.getByRole("button", { name: "Register", exact: true }).click();
    const card = page.locator('article[data-box="nas"]');
    await card.locator(".badge", { hasText: /^online$/ }).waitFor();
    await card.locator("meter.space-bar").waitFor();
    await card.getByText("No repos on this box yet.").waitFor();
    expect(await card.textContent()).toContain("ssh-ed25519");
    expect(await page.content()).not.toContain(box.token);

    // A machine with a real SSH key, as its agent reports it.
    const key = await generateKey(suite.dir, "machine");
    const enrollment = CreatedEnrollmentToken.parse(
      (await api("POST", "/api/managed-machines/enrollment-tokens", { name: "laptop" })).body,
    );
    const agent = await FakeAgent.enroll(url, enrollment.token, {
      ssh_public_key: key.publicLine,
    });
    await agent.heartbeat();
    await page.getByRole("link", { name: "Machines" }).click();
    const row = page.locator("tr[data-machine]").first();
    await row.locator("summary", { hasText: "ssh-ed25519" }).click();
    const keyPart = key.publicLine.split(" ").slice(0, 2).join(" ");
    await row.locator(`[data-command^="${keyPart}"]`).waitFor();
    await row.getByRole("button", { name: "Copy" }).waitFor();

    // One press: the box repo with the machine's key, pinned host keys, repo.init queued.
    await page.getByRole("link", { name: "Repositories" }).click();
    await page.getByRole("button", { name: "New repository" }).click();
    await page.getByLabel("Name", { exact: true }).fill("laptop-home");
    expect(await page.getByLabel("Store on").inputValue()).not.toBe("");
    expect(await page.getByLabel("Location").count()).toBe(0);
    await page.getByLabel(/Append-only/).check();
    await page.getByLabel("Passphrase", { exact: true }).fill("a passphrase for the box test");
    await page.getByLabel("Source paths", { exact: true }).fill("/home");
    await screenshot(page, "boxes-new-repository");
    await page.getByRole("button", { name: "Create repository" }).click();
    await page.getByRole("heading", { name: "laptop-home" }).waitFor();
    await page.locator("[data-lives-on]", { hasText: "storage box nas" }).waitFor();
    // The box's side of freshness: nothing to compare yet, said plainly (no warning).
    await page.locator('[data-evidence="unknown"]', { hasText: "none seen" }).waitFor();
    const repositories = Repository.array().parse((await api("GET", "/api/repositories")).body);
    expect(repositories).toHaveLength(1);
    expect(repositories[0]).toMatchObject({ append_only: true });
    expect(repositories[0]?.location).toContain(join(box.root, "laptop-home"));
    const keys = await readFile(box.keysFile, "utf8");
    expect(keys).toContain(keyPart);
    expect(keys).toContain("--append-only");
    expect(existsSync(join(box.root, "laptop-home"))).toBe(true);

    await page.getByRole("link", { name: "Boxes" }).click();
    await card
      .locator('tr[data-box-repo="laptop-home"]')
      .getByRole("link", { name: "open" })
      .waitFor();
    await screenshot(page, "boxes");
    expect(problems).toEqual([]);
    await context.close();
  }, 300_000);
});
