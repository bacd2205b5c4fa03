/**
 * Getting a file back in the web UI, in a real browser (Chromium via playwright-core)
 * against the compiled hub and a real agent running real borg: back up a known tree
 * (through the API), open the archive's file browser on the repository page (the first
 * visit lists the archive on the machine), walk down with breadcrumbs and folders, search
 * by glob, pick a file and a folder, restore them in the dialog (overwrite off), follow
 * the restore's job page until it completes, and compare the bytes on disk.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { CreatedEnrollmentToken, Job, Machine } from "../../src/shared/protocol/api.ts";
import { hostBinary } from "../helpers/binary.ts";
import {
  apiAs,
  launchChromium,
  SHOTS,
  screenshot,
  signIn,
  startCompiledHub,
  stopProcesses,
} from "../helpers/browser.ts";

const ADMIN_PASSWORD = "e2e-ui-restore-admin-password";

let binary: string;
let dir: string;
let browser: Browser | undefined;
const processes: SpawnedProcess[] = [];

beforeAll(async () => {
  binary = await hostBinary();
  dir = await mkdtemp(join(tmpdir(), "borgctl-e2e-ui-restore-"));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopProcesses(processes);
  await rm(dir, { recursive: true, force: true });
});

describe("restore in the web UI", () => {
  test("browse an archive, pick a file and a folder, restore them, see the job finish", async () => {
    const url = await startCompiledHub({ binary, dir, adminPassword: ADMIN_PASSWORD, processes });
    const context = await (browser as Browser).newContext({
      viewport: { width: 1200, height: 900 },
    });
    const { page, problems } = await signIn(context, url, "admin", ADMIN_PASSWORD);
    const api = apiAs(url, context);

    const enrollment = CreatedEnrollmentToken.parse(
      (await api("POST", "/api/managed-machines/enrollment-tokens", { name: "laptop" })).body,
    );
    const agentConfig = join(dir, "agent", "agent.toml");
    const agentEnv = { HOME: dir, NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const registered = await runProcess({
      argv: [
        binary,
        "agent",
        "register",
        "--server",
        url,
        "--token",
        enrollment.token,
        "--config",
        agentConfig,
        "--state-dir",
        join(dir, "agent-state"),
      ],
      env: agentEnv,
      captureStdout: true,
    });
    expect(registered.exitCode).toBe(0);
    processes.push(
      spawnProcess({ argv: [binary, "agent", "run", "--config", agentConfig], env: agentEnv }),
    );
    let machineId = 0;
    for (let i = 0; machineId === 0; i++) {
      const [machine] = Machine.array().parse((await api("GET", "/api/managed-machines")).body);
      if (machine?.status === "online") machineId = machine.id;
      expect(i).toBeLessThan(100);
      await Bun.sleep(200);
    }

    const sources = join(dir, "home");
    const photo = randomBytes(200_000);
    await mkdir(join(sources, "photos", "2026"), { recursive: true });
    await writeFile(join(sources, "photos", "2026", "beach.jpg"), photo);
    await writeFile(join(sources, "photos", "2026", "notes.pdf"), "notes");
    await writeFile(join(sources, "todo.txt"), "buy milk\n");
    const created = await api("POST", "/api/repositories", {
      name: "laptop-home",
      agent_machine_id: machineId,
      location: join(dir, "repos", "home"),
      passphrase: "e2e ui restore passphrase",
      source_paths: [sources],
    });
    const repositoryId = (created.body as { id: number }).id;
    const run = async (action: string) => {
      const queued = await api("POST", `/api/repositories/${repositoryId}/${action}`, {});
      const jobId = (queued.body as { job_id: number }).job_id;
      for (;;) {
        const job = Job.parse((await api("GET", `/api/jobs/${jobId}`)).body);
        if (["completed", "failed", "canceled"].includes(job.status)) return job;
        await Bun.sleep(200);
      }
    };
    expect((await run("init")).status).toBe("completed");
    expect((await run("backup")).status).toBe("completed");
    expect((await run("list")).status).toBe("completed");

    await page.goto(`${url}/repositories/${repositoryId}`);
    await page.locator("button[data-browse]").first().click();
    const browserCard = page.locator(".archive-browser");
    // The first visit lists the archive on the machine, then shows the root.
    const member = sources.replace(/^\/+/, "");
    const top = member.split("/")[0] as string;
    await browserCard.locator(`tr[data-entry="${top}"]`).waitFor({ timeout: 60_000 });
    // Walk down folder by folder to the sources.
    const parts = member.split("/");
    for (const [i, part] of parts.entries()) {
      await browserCard.locator(`tr[data-entry="${part}"] button`).click();
      await browserCard
        .locator(`button[data-crumb="/${parts.slice(0, i + 1).join("/")}"]`)
        .waitFor();
    }
    await browserCard.locator('tr[data-entry="todo.txt"]').waitFor();
    // Folders first.
    expect(
      await browserCard
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-entry"))),
    ).toEqual(["photos", "todo.txt"]);
    expect(await browserCard.locator('tr[data-entry="todo.txt"]').textContent()).toContain("9 B");
    await browserCard.getByLabel(`Pick /${member}/todo.txt`).check();
    await browserCard.locator('tr[data-entry="photos"] button').click();
    await browserCard.locator('tr[data-entry="2026"]').waitFor();
    await browserCard.getByLabel(`Pick /${member}/photos/2026`).check();
    // Search: a glob over the whole archive.
    await browserCard.getByPlaceholder("Search, e.g. *.pdf").fill("*.pdf");
    await browserCard.getByRole("button", { name: "Search" }).click();
    await browserCard.getByText(`/${member}/photos/2026/notes.pdf`).waitFor();
    // Back to a folder by its breadcrumb.
    await browserCard.locator(`button[data-crumb="/${member}"]`).click();
    await browserCard.locator('tr[data-entry="todo.txt"]').waitFor();
    await screenshot(page, "archive-browser");

    await browserCard.getByRole("button", { name: "Restore selected (2)" }).click();
    const dialog = page.getByRole("dialog", { name: "Restore" });
    const destination = join(dir, "restored");
    await dialog.getByLabel(/Destination on the machine/).fill(destination);
    expect(await dialog.getByLabel("Overwrite files that exist there").isChecked()).toBe(false);
    await dialog.getByLabel("Overwrite files that exist there").check();
    await dialog.getByRole("alert").waitFor();
    await dialog.getByLabel("Overwrite files that exist there").uncheck();
    await screenshot(page, "restore-dialog");
    await dialog.getByRole("button", { name: "Restore", exact: true }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    await page.getByRole("heading", { name: /^Restore #\d+$/ }).waitFor();
    await page.locator(".badge", { hasText: /^completed$/ }).waitFor({ timeout: 60_000 });
    await page.locator('[data-fact="restored"]').waitFor();
    await screenshot(page, "restore-job");

    const back = join(destination, member);
    expect(await readFile(join(back, "todo.txt"), "utf8")).toBe("buy milk\n");
    expect(Buffer.compare(await readFile(join(back, "photos", "2026", "beach.jpg")), photo)).toBe(
      0,
    );
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);
});
