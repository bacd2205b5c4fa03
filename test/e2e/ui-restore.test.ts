/**
 * Getting a file back in the web UI, in a real browser (Chromium via playwright-core)
 * against the compiled hub and a real agent running real borg: back up a known tree
 * (through the API), open the archive's file browser on the repository page (the first
 * visit lists the archive on the machine), walk down with breadcrumbs and folders, search
 * by glob, pick a file and a folder, restore them in the dialog (overwrite off), follow
 * the restore's job page until it completes, and compare the bytes on disk.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreatedEnrollmentToken } from "../../src/shared/protocol/api.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite, onlineMachine, runJob } from "../helpers/browser-suite.ts";

const ADMIN_PASSWORD = "e2e-ui-restore-admin-password";

const suite = browserSuite({ name: "restore", adminPassword: ADMIN_PASSWORD });

describe("restore in the web UI", () => {
  test("browse an archive, pick a file and a folder, restore them, see the job finish", async () => {
    const url = await suite.startHub();
    const dir = suite.dir;
    const { context, page, problems, api } = await suite.signIn(url, {
      viewport: { width: 1200, height: 900 },
    });

    const enrollment = CreatedEnrollmentToken.parse(
      (await api("POST", "/api/managed-machines/enrollment-tokens", { name: "laptop" })).body,
    );
    await suite.startAgent(url, enrollment.token);
    const machineId = (await onlineMachine(api)).id;

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
    const run = (action: string) => runJob(api, `/api/repositories/${repositoryId}/${action}`);
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
