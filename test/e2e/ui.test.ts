/**
 * The web UI in a real browser (Debian's chromium, driven by playwright-core) against the
 * compiled hub and a real agent running real borg on a local repository: sign in, see the
 * dashboard, add a machine and watch it come online, back up now and watch the job reach
 * completed with its log, revoke the machine. Security headers and cache headers are
 * checked on the wire; the page must log no console error. Screenshots of every page go
 * to test-output/ui/ for reviewers.
 */
import { describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Machine, Repository } from "../../src/shared/protocol/api.ts";
import { apiAs, collectProblems, screenshot } from "../helpers/browser.ts";
import { browserSuite, runJob } from "../helpers/browser-suite.ts";

const ADMIN_PASSWORD = "e2e-ui-admin-password-789";
const PASSPHRASE = "e2e ui repo passphrase";

const suite = browserSuite({ name: "ui", adminPassword: ADMIN_PASSWORD });

describe("web UI in chromium against the compiled hub", () => {
  test("headers: CSP and friends on pages, immutable hashed assets, SPA fallback, API 404 stays JSON", async () => {
    const url = await suite.startHub();
    const index = await fetch(`${url}/machines`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(index.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    expect(index.headers.get("referrer-policy")).toBe("no-referrer");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await index.text();
    expect(html).not.toContain("<style");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)?.[1] ?? "";
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${url}/assets/main-nope.js`)).status).toBe(404);
    const api404 = await fetch(`${url}/api/nope`);
    expect(api404.status).toBe(404);
    expect(await api404.json()).toMatchObject({ code: "not_found" });
  });

  test("sign in, add a machine that comes online, back up now, follow the job, revoke", async () => {
    const url = await suite.startHub();
    const dir = suite.dir;
    const context = await suite.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    const problems = collectProblems(page);

    // Sign in: a wrong password is explained next to the form, then the right one works.
    const response = await page.goto(url);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/password|credentials/i);
    // The 401 of the failed login is the browser's own network log line, not the app's.
    problems.length = 0;
    expect(await page.getByText("admin password was printed").count()).toBe(1);
    await screenshot(page, "login");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByText("Nothing is running.").waitFor();
    await screenshot(page, "dashboard-empty");

    // Add a machine: the register command carries a one-time enrollment token.
    await page.getByRole("link", { name: "Machines" }).click();
    await page.getByRole("heading", { name: "Machines" }).waitFor();
    await page.getByText("No machines yet").waitFor();
    await page.getByRole("button", { name: "Add machine" }).click();
    await page.getByLabel("Name").fill("laptop");
    await page.getByRole("button", { name: "Create registration command" }).click();
    const command =
      (await page.locator(".command code", { hasText: "agent register" }).textContent()) ?? "";
    expect(command).toStartWith(`borgctl agent register --server ${url} --token borgctl_enroll_`);
    expect(command).toEndWith(" --name laptop");
    await screenshot(page, "machines-add");
    const token = /--token (\S+)/.exec(command)?.[1] as string;

    // The command, run as the machine would run it, then the agent.
    await suite.startAgent(url, token, { name: "laptop" });
    await page.getByRole("button", { name: "Done" }).click();
    const row = page.locator('tr[data-machine="laptop"]');
    await row.locator(".badge", { hasText: "online" }).waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain("linux");
    await screenshot(page, "machines");

    // A repository on the machine's disk, created and initialised through the API (the
    // create form is not in the UI yet), then backed up from the UI.
    const api = apiAs(url, context);
    const machine = Machine.array().parse((await api("GET", "/api/managed-machines")).body)[0];
    const sources = join(dir, "data");
    await mkdir(sources);
    for (let i = 0; i < 20; i++)
      await writeFile(join(sources, `file-${i}.txt`), `line ${i}\n`.repeat(500));
    const repo = Repository.parse(
      (
        await api("POST", "/api/repositories", {
          name: "laptop-home",
          agent_machine_id: machine?.id,
          location: join(dir, "repo"),
          passphrase: PASSPHRASE,
          source_paths: [sources],
        })
      ).body,
    );
    expect((await runJob(api, `/api/repositories/${repo.id}/init`)).status).toBe("completed");

    await page.getByRole("link", { name: "Repositories" }).click();
    await page.getByRole("cell", { name: "laptop-home" }).waitFor();
    await screenshot(page, "repositories");
    await page.getByRole("button", { name: "Back up now" }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    await page.getByRole("heading", { name: /Backup #\d+/ }).waitFor();
    await page.locator(".badge", { hasText: /^completed$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole("heading", { name: "Log" }).waitFor();
    expect(await page.getByText("Archive", { exact: true }).count()).toBe(1);
    await screenshot(page, "job-detail");

    await page.getByRole("link", { name: "Jobs" }).first().click();
    await page.getByRole("link", { name: /Backup #\d+/ }).waitFor();
    await screenshot(page, "jobs");
    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("cell", { name: "laptop-home" }).waitFor();
    await screenshot(page, "dashboard");

    // Revoke asks first, then the machine is marked revoked.
    await page.getByRole("link", { name: "Machines" }).click();
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByText("Revoke laptop?").waitFor();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await row.locator(".badge", { hasText: "revoked" }).waitFor();
    await screenshot(page, "machines-revoked");

    // Phone width: the page still renders, nothing overflows the viewport horizontally.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "dashboard-phone");

    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});
