/**
 * Backup plans end to end, with the compiled hub and agent as processes and the real borg
 * on local repositories (test/helpers/fleet.ts):
 * - in Chromium: the repository page's plan form (the "nightly 02:00 Berlin, keep 7 daily,
 *   4 weekly, 12 monthly, check monthly" example from the README), its live preview and
 *   retention line, disable/enable, edit, run now, and the next backup on the dashboard;
 * - the scheduler on the real clock: a 6-field cron every few seconds makes backups and
 *   prunes (keep_last 2 of the plan's archives) on a real repository; the hub SIGKILLed and
 *   started again makes no second job for any due time; a disabled plan stops.
 * Screenshots go to test-output/ui/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { Job, Plan } from "../../src/shared/protocol/api.ts";
import { launchChromium, SHOTS, screenshot, signIn } from "../helpers/browser.ts";
import {
  ADMIN_PASSWORD,
  createFleet,
  type Fleet,
  type FleetAgent,
  TERMINAL,
  waitFor,
} from "../helpers/fleet.ts";

const PASSPHRASE = "e2e plans passphrase";

let fleet: Fleet;
let agent: FleetAgent;
let browser: Browser | undefined;
let sources: string;

beforeAll(async () => {
  fleet = await createFleet("e2e-plans");
  agent = await fleet.addAgent("plans");
  agent.start();
  sources = join(fleet.dir, "sources");
  await mkdir(sources, { recursive: true });
  await writeFile(join(sources, "home.txt"), "a home directory\n".repeat(200));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await fleet?.cleanup();
});

async function initializedRepository(name: string): Promise<number> {
  const id = await fleet.createRepository(agent, {
    name,
    location: join(fleet.dir, "repos", name),
    passphrase: PASSPHRASE,
    source_paths: [sources],
  });
  const init = await fleet.waitForJob(await fleet.queue(id, "init"), 60_000);
  expect(init.status).toBe("completed");
  return id;
}

async function planJobs(planId: number): Promise<Job[]> {
  const { body } = await fleet.api("GET", "/api/jobs?limit=500");
  return Job.array()
    .parse(body)
    .filter((j) => j.plan_id === planId)
    .reverse();
}

describe("backup plans, compiled hub and agent", () => {
  test("the README's nightly plan through the UI: preview, retention line, disable, edit, run now, next backup", async () => {
    const repositoryId = await initializedRepository("home");
    const context = await (browser as Browser).newContext({
      viewport: { width: 1200, height: 900 },
      timezoneId: "Europe/Berlin",
    });
    const { page, problems } = await signIn(context, fleet.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${fleet.url}/repositories/${repositoryId}`);
    await page.getByRole("heading", { name: "Plans" }).waitFor();
    await page.getByText("No plans").waitFor();
    await page.getByRole("button", { name: "New plan" }).click();

    const form = page.getByRole("form", { name: "New plan" });
    await form.getByLabel("Name (optional)").fill("nightly home");
    await form.getByLabel("Daily at…").check();
    await form.getByLabel("Time (HH:MM)").fill("02:00");
    await form.getByLabel("Timezone").fill("Europe/Berlin");
    // The live preview: the hub's words and the next 5 due times, shown in Berlin time.
    const preview = form.locator("[data-preview]");
    await preview.getByText("every day at 02:00 (Europe/Berlin)").waitFor();
    const runs = preview.locator("li");
    await waitFor("5 runs", async () => ((await runs.count()) === 5 ? true : undefined), 10_000);
    for (const text of await runs.allTextContents()) expect(text).toMatch(/, 02:00$/);
    const isos = await runs.evaluateAll((items) => items.map((li) => li.getAttribute("data-run")));
    expect(new Set(isos).size).toBe(5);
    // A custom expression croner refuses is explained, and the preset is back by choice.
    expect(problems).toEqual([]);
    await form.getByLabel("Custom cron").check();
    await form.getByLabel(/Cron expression/).fill("0 2 * * * * *");
    await preview
      .locator(".error")
      .getByText(/schedule/)
      .waitFor();
    // That preview's 400 is the browser's own network log line, not a problem of the page.
    problems.length = 0;
    await form.getByLabel("Daily at…").check();
    await preview.getByText("every day at 02:00 (Europe/Berlin)").waitFor();

    // Keep 7 daily, 4 weekly, 12 monthly (the form's defaults), check monthly.
    await form.getByLabel("Daily", { exact: true }).fill("7");
    await form.getByLabel("Weekly", { exact: true }).fill("4");
    await form.getByLabel("Monthly", { exact: true }).fill("12");
    await form.getByLabel(/Check every/).fill("30");
    await form
      .locator("[data-retention-summary]")
      .getByText(
        "Keeps the last archive of each of 7 days, 4 weeks and 12 months; this plan's other archives are deleted after each backup.",
      )
      .waitFor();
    await screenshot(page, "plans-form");
    await form.getByRole("button", { name: "Create plan" }).click();

    const card = page.locator(".card.plan");
    await card.getByRole("heading", { name: "nightly home" }).waitFor();
    await card.getByText("every day at 02:00 (Europe/Berlin)").waitFor();
    const [plan] = Plan.array().parse(
      (await fleet.api("GET", `/api/plans?repository_id=${repositoryId}`)).body,
    );
    expect(plan).toMatchObject({
      name: "nightly home",
      schedule: "0 2 * * *",
      timezone: "Europe/Berlin",
      retention: { keep_daily: 7, keep_weekly: 4, keep_monthly: 12 },
      prune_after_backup: true,
      check_every_days: 30,
      enabled: true,
    });
    await expect(card.locator("[data-next-run]").textContent()).resolves.toMatch(/02:00 \(in /);

    await card.getByRole("button", { name: "Disable" }).click();
    await card.getByText("none (disabled)").waitFor();
    await card.getByRole("button", { name: "Enable" }).click();
    await card.getByText(/02:00 \(in /).waitFor();

    // Edit: the form opens on the plan's own preset and values.
    await card.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("form", { name: "Edit plan nightly home" });
    await expect(edit.getByLabel("Daily at…").isChecked()).resolves.toBe(true);
    await expect(edit.getByLabel("Weekly", { exact: true }).inputValue()).resolves.toBe("4");
    await edit.getByLabel("Time (HH:MM)").fill("03:15");
    await edit.locator("[data-preview]").getByText("every day at 03:15 (Europe/Berlin)").waitFor();
    await edit.getByRole("button", { name: "Save plan" }).click();
    await card.getByText("every day at 03:15 (Europe/Berlin)").waitFor();

    // Run now: the plan's backup, and its chained prune, on the real repository.
    await card.getByRole("button", { name: "Run now" }).click();
    const queued = card.getByText(/Backup queued as job #\d+/);
    await queued.waitFor();
    const jobId = Number((await queued.textContent())?.replace(/\D/g, ""));
    const backup = await fleet.waitForJob(jobId, 60_000);
    expect(backup.status).toBe("completed");
    expect(backup.result?.archive_name?.startsWith(plan?.archive_prefix as string)).toBe(true);
    const chain = await waitFor(
      "the chained prune, compact and check",
      async () => {
        const jobs = await planJobs(plan?.id as number);
        return jobs.length === 4 && jobs.every((j) => TERMINAL.includes(j.status))
          ? jobs
          : undefined;
      },
      120_000,
    );
    expect(chain.map((j) => [j.type, j.status])).toEqual([
      ["backup.create", "completed"],
      ["repo.prune", "completed"],
      ["repo.compact", "completed"],
      ["repo.check", "completed"],
    ]);

    // The dashboard shows when the next backup is.
    await page.goto(`${fleet.url}/`);
    await page.locator(`tr[data-repository="home"] [data-next-run]`).getByText(/^in /).waitFor();
    await screenshot(page, "plans-dashboard");
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);

  test("a plan every few seconds backs up and prunes; a SIGKILLed hub makes no second job for a due time; disabled, it stops", async () => {
    const repositoryId = await initializedRepository("often");
    const created = await fleet.api("POST", "/api/plans", {
      repository_id: repositoryId,
      schedule: "*/3 * * * * *",
      retention: { keep_last: 2 },
    });
    expect(created.status).toBe(201);
    const plan = Plan.parse(created.body);
    expect(plan.description).toBe("every 3 seconds (UTC)");

    const backups = async () => (await planJobs(plan.id)).filter((j) => j.type === "backup.create");
    // Due every 3 s: while a backup or its prune runs, due times are skipped, not stacked.
    await waitFor(
      "two finished plan backups and their prunes",
      async () => {
        const jobs = await planJobs(plan.id);
        const done = (type: string) =>
          jobs.filter((j) => j.type === type && j.status === "completed").length;
        return done("backup.create") >= 2 && done("repo.prune") >= 2 ? true : undefined;
      },
      120_000,
    );

    const lastBefore = Math.max(...(await planJobs(plan.id)).map((j) => j.id));
    const killed = await fleet.stopHub("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    await fleet.startHub();
    await waitFor(
      "a backup queued after the restart, completed, and its prune",
      async () => {
        const jobs = await planJobs(plan.id);
        const backup = jobs.find(
          (j) => j.id > lastBefore && j.type === "backup.create" && j.status === "completed",
        );
        const pruned = jobs.some(
          (j) => backup && j.id > backup.id && j.type === "repo.prune" && j.status === "completed",
        );
        return pruned ? true : undefined;
      },
      120_000,
    );

    // Disabled: its jobs end, and after two more regular scheduler passes none is new.
    const disabled = await fleet.api("PATCH", `/api/plans/${plan.id}`, { enabled: false });
    expect(disabled.status).toBe(200);
    await waitFor(
      "the plan's jobs to end",
      async () =>
        (await planJobs(plan.id)).every((j) => TERMINAL.includes(j.status)) ? true : undefined,
      120_000,
    );
    const count = (await planJobs(plan.id)).length;

    // No due time has two jobs; every backup completed.
    const all = await backups();
    const dues = all.map((j) => j.scheduled_for);
    expect(dues.every((d) => d !== null)).toBe(true);
    expect(new Set(dues).size).toBe(dues.length);
    expect(all.every((j) => j.status === "completed")).toBe(true);

    // keep_last 2: of the plan's archives two are left.
    await fleet.waitForJob(await fleet.queue(repositoryId, "list"), 60_000);
    const { body } = await fleet.api("GET", `/api/repositories/${repositoryId}/archives`);
    const names = (body as { archives: { name: string }[] }).archives.map((a) => a.name);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(names.filter((n) => n.startsWith(plan.archive_prefix))).toHaveLength(2);

    await Bun.sleep(32_000);
    expect((await planJobs(plan.id)).length).toBe(count);
  }, 360_000);
});
