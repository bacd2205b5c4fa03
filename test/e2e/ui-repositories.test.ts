/**
 * Repositories in the web UI, in a real browser (Debian's chromium via playwright-core)
 * against the compiled hub and a real agent running real borg on local repositories:
 * the create form (a refused field shown next to it, then a repository with a
 * passphrase), Init, Back up now, Refresh archives until the archive is in the table, a
 * dry-run prune, then a slow backup canceled from the job view, its log, and deleting a
 * repository. Screenshots go to test-output/ui/.
 */

import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  CreatedEnrollmentToken,
  DEFAULT_ARCHIVE_NAME,
  Repository,
} from "../../src/shared/protocol/api.ts";
import { apiAs, collectProblems, screenshot } from "../helpers/browser.ts";
import { browserSuite, onlineMachine } from "../helpers/browser-suite.ts";

const ADMIN_PASSWORD = "e2e-ui-repos-admin-password";
const PASSPHRASE = "e2e ui repositories passphrase";

const suite = browserSuite({ name: "repos", adminPassword: ADMIN_PASSWORD });

/** Presses an action on the repository page and waits for the job it queued to end. */
async function runAction(page: Page, button: string, status = "completed"): Promise<number> {
  const link = page.locator(".queued a");
  const before = (await link.count()) > 0 ? await link.textContent() : null;
  await page.getByRole("button", { name: button, exact: true }).click();
  // The notice names the job this press queued (a new one each time).
  await page.waitForFunction((previous) => {
    const text = document.querySelector(".queued a")?.textContent;
    return text !== undefined && text !== null && text !== previous;
  }, before);
  const jobId = Number((await link.textContent())?.replace(/\D/g, ""));
  expect(jobId).toBeGreaterThan(0);
  const row = page.locator(`tr[data-job="${jobId}"]`);
  await row.locator(".badge", { hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: 30_000 });
  return jobId;
}

describe("repositories in the web UI", () => {
  test("create through the form, init, back up, list archives, prune, cancel a slow backup, delete", async () => {
    const url = await suite.startHub();
    const dir = suite.dir;
    const context = await suite.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = collectProblems(page);

    // Signing in on a deep link lands on the page asked for.
    await page.goto(`${url}/repositories`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Repositories" }).waitFor();
    await page.getByText("No repositories yet").waitFor();

    // A machine with a real agent, registered through the API.
    const api = apiAs(url, context);
    const enrollment = CreatedEnrollmentToken.parse(
      (await api("POST", "/api/managed-machines/enrollment-tokens", { name: "server1" })).body,
    );
    await suite.startAgent(url, enrollment.token, { name: "server1" });
    await onlineMachine(api, "server1");

    const sources = join(dir, "data");
    await mkdir(sources);
    for (let i = 0; i < 20; i++) {
      await writeFile(join(sources, `file-${i}.txt`), `line ${i}\n`.repeat(500));
    }

    // The form: no sources is refused by the hub, and the message sits next to that field.
    await page.reload();
    await page.getByRole("button", { name: "New repository" }).click();
    await page
      .getByText("Import an existing repository: fill the same form and skip Init")
      .waitFor();
    expect(await page.getByText("ssh://borg@box.example.com/var/lib/borg/repos/NAME").count()).toBe(
      1,
    );
    expect(await page.getByLabel("Encryption").inputValue()).toBe("repokey-blake2");
    expect(await page.getByLabel("Compression").inputValue()).toBe("lz4");
    expect(await page.getByLabel("Archive name template").inputValue()).toBe(DEFAULT_ARCHIVE_NAME);
    expect(await page.getByLabel("Machine").locator("option").allTextContents()).toEqual([
      "server1 (online)",
    ]);
    await page.getByLabel("Name", { exact: true }).fill("server1-home");
    await page.getByLabel("Location").fill(join(dir, "repos", "home"));
    await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
    await page.getByRole("button", { name: "Create repository" }).click();
    const sourceError = page.locator('[data-field="source_paths"] .field-error');
    await sourceError.waitFor();
    expect(await sourceError.textContent()).toBe(
      "Give at least one folder to back up, one a line, e.g. /home",
    );
    expect(
      await page.getByLabel("Source paths", { exact: true }).getAttribute("aria-invalid"),
    ).toBe("true");
    await screenshot(page, "repository-new");
    // The 400 is the browser's own network log line, not the app's.
    problems.length = 0;

    // Keeping the passphrase on the machine hides the field and shows the command instead.
    await page.getByLabel("Keep the passphrase on the machine").check();
    expect(await page.getByLabel("Passphrase", { exact: true }).count()).toBe(0);
    await page.getByText("borgctl agent secret set server1-home").waitFor();
    await page.getByLabel("Keep the passphrase on the machine").uncheck();

    await page.getByLabel("Source paths", { exact: true }).fill(sources);
    await page.getByLabel("Exclude patterns").fill("*.tmp\n*/.cache");
    await page.getByRole("button", { name: "Create repository" }).click();
    await page.waitForURL(/\/repositories\/\d+$/);
    await page.getByRole("heading", { name: "server1-home" }).waitFor();
    await page.getByText("stored on the hub").waitFor();
    expect(await page.content()).not.toContain(PASSPHRASE);
    const id = Number(/\/repositories\/(\d+)$/.exec(page.url())?.[1]);
    const stored = Repository.parse((await api("GET", `/api/repositories/${id}`)).body);
    expect(stored).toMatchObject({
      name: "server1-home",
      passphrase_location: "hub",
      has_passphrase: true,
      source_paths: [sources],
      exclude_patterns: ["*.tmp", "*/.cache"],
      compression: "lz4",
    });

    await page.getByText("No archives known").waitFor();
    await runAction(page, "Init");
    const backup = await runAction(page, "Back up now");
    await runAction(page, "Refresh archives");
    const archive = page.locator("tr[data-archive]");
    await archive.first().waitFor({ timeout: 10_000 });
    expect(await archive.count()).toBe(1);
    // The template's {hostname}, expanded by borg on the machine (this one).
    expect(await archive.first().getAttribute("data-archive")).toStartWith(`${hostname()}-`);
    expect(await archive.first().textContent()).toContain(hostname());
    await page.getByText(/^Listed /).waitFor();
    // The last backup is shown with its result, linking to its job.
    await page
      .locator(`a[href="/jobs/${backup}"] .badge`, { hasText: "completed" })
      .first()
      .waitFor();

    // Freshness: protected after the backup; an operator-level form sets the interval.
    const freshness = page.locator('[data-card="freshness"]');
    await freshness.locator('[data-freshness="ok"]').waitFor();
    await freshness.getByText("nothing: no enabled backup plan and no interval set").waitFor();
    await freshness.getByLabel("Expected every (hours; empty: from the plans)").fill("6");
    await freshness.getByRole("button", { name: "Save" }).click();
    await freshness.getByText("every 6h (set on the repository)").waitFor();
    expect(
      Repository.parse((await api("GET", `/api/repositories/${id}`)).body).freshness,
    ).toMatchObject({
      status: "ok",
      expected_interval_seconds: 6 * 3600,
      expected_interval_source: "repository",
    });

    // Prune: no keep rule is refused in the form; a dry run is queued and completes.
    await page.getByRole("button", { name: "Prune (dry run)" }).click();
    await page.getByText("give at least one keep rule").waitFor();
    await page.getByLabel("Keep daily").fill("7");
    await runAction(page, "Prune (dry run)");
    await screenshot(page, "repository-detail");

    // A slow backup (random data at zstd level 19; many files, because on SIGINT borg 1.2
    // first finishes the file it is reading), canceled from the job view.
    const slow = join(dir, "slow");
    await mkdir(slow);
    for (let i = 0; i < 64; i++) {
      await writeFile(join(slow, `random-${i}.bin`), randomBytes(1024 * 1024));
    }
    await page.getByRole("link", { name: "Repositories" }).first().click();
    await page.getByRole("button", { name: "New repository" }).click();
    await page.getByLabel("Name", { exact: true }).fill("slow");
    await page.getByLabel("Location").fill(join(dir, "repos", "slow"));
    await page.getByLabel("Encryption").selectOption("none");
    expect(await page.getByLabel("Passphrase", { exact: true }).count()).toBe(0);
    await page.getByLabel("Compression").fill("zstd,19");
    await page.getByLabel("Source paths", { exact: true }).fill(slow);
    await page.getByRole("button", { name: "Create repository" }).click();
    await page.getByRole("heading", { name: "slow" }).waitFor();
    await page.getByText("none (not encrypted)").waitFor();
    await runAction(page, "Init");
    await page.getByRole("button", { name: "Back up now", exact: true }).click();
    await page.locator(".queued a").click();
    await page.waitForURL(/\/jobs\/\d+$/);
    await page.getByRole("heading", { name: /Backup #\d+/ }).waitFor();
    await page.locator(".badge", { hasText: /^running$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Cancel job" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await page.locator(".badge", { hasText: /^canceled$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole("heading", { name: "Log" }).waitFor();
    // Canceled cooperatively: borg got SIGINT and said so in the log (as "SIGINT" once it
    // runs, or Python's KeyboardInterrupt when the signal lands while it still starts up).
    expect(await page.locator("pre.log").textContent()).toMatch(/SIGINT|KeyboardInterrupt/);
    await screenshot(page, "job-canceled");

    // Delete asks first, then the repository is gone from the list.
    await page.goBack();
    await page.getByRole("heading", { name: "slow" }).waitFor();
    await page.getByRole("button", { name: "Delete repository" }).click();
    await page.getByText("Delete slow from the hub?").waitFor();
    await page.getByRole("button", { name: "Yes, delete it" }).click();
    await page.waitForURL(/\/repositories$/);
    await page.locator('tr[data-repository="server1-home"]').waitFor();
    expect(await page.locator('tr[data-repository="slow"]').count()).toBe(0);

    // Phone width: the detail page fits.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole("link", { name: "server1-home" }).click();
    await page.getByRole("heading", { name: "server1-home" }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);

    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);
});
