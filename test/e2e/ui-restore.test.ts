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
import { AGENT_CAPABILITIES } from "../../src/agent/loop.ts";
import {
  CreatedEnrollmentToken,
  Job,
  JobAccepted,
  Machine,
  Repository,
} from "../../src/shared/protocol/api.ts";
import { ErrorBody } from "../../src/shared/protocol/common.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite, onlineMachine, runJob } from "../helpers/browser-suite.ts";
import { expectOk, FakeAgent } from "../helpers/fake-agent.ts";
import { waitFor } from "../helpers/fleet.ts";
import { generateKey } from "../helpers/sshd.ts";

const ADMIN_PASSWORD = "e2e-ui-restore-admin-password";

const suite = browserSuite({ name: "restore", adminPassword: ADMIN_PASSWORD, box: true });

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
    // One file straight to the browser: the hub streams it from the machine.
    const [downloaded] = await Promise.all([
      page.waitForEvent("download"),
      browserCard.locator('a[data-download="todo.txt"]').click(),
    ]);
    expect(downloaded.suggestedFilename()).toBe("todo.txt");
    expect(await readFile((await downloaded.path()) as string, "utf8")).toBe("buy milk\n");
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

/**
 * Restore onto another machine (issue 16). The full cross-machine restore through a real
 * box and sshd, with the real borg on two agents, is test/integration/server/
 * cross-machine-restore.test.ts; here the browser's side: the dialog's machine picker and
 * the request it sends, against the compiled hub and a real box (its HTTP API, in this
 * process). The machines are protocol-speaking fake agents with real SSH keys (the owner
 * answers the listing and browse jobs; the target takes the restore job), so the test
 * stops at the job queued for the target machine: its view, the hub's record of it, the
 * key lent on the box, the payload the target gets, and the key gone once the job ends.
 */
describe("restore onto another machine in the web UI", () => {
  const ARCHIVE = "laptop-2026-12-01";
  const LISTING = [
    { path: "home", type: "dir", size: 0, mtime: "2026-12-01T09:00:00", mode: "drwxr-xr-x" },
    { path: "home/anna", type: "dir", size: 0, mtime: "2026-12-01T09:00:00", mode: "drwx------" },
    {
      path: "home/anna/thesis.tex",
      type: "file",
      size: 48_213,
      mtime: "2026-11-30T22:14:03",
      mode: "-rw-r--r--",
    },
  ];

  test("a box repository offers the other machines and restores onto the one picked; others say why not", async () => {
    const box = suite.box;
    const keysFile = box.keysFile;
    const dir = join(suite.dir, "elsewhere");
    const url = await suite.startHub({ dir });
    const { context, page, problems, api } = await suite.signIn(url, {
      viewport: { width: 1200, height: 900 },
    });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await api(method, path, body);
      if (r.status >= 300)
        throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const enroll = async (name: string, online = true) => {
      const key = await generateKey(dir, name);
      const { token } = CreatedEnrollmentToken.parse(
        await ok("POST", "/api/managed-machines/enrollment-tokens", { name }),
      );
      const agent = await FakeAgent.enroll(url, token, {
        name,
        ssh_public_key: key.publicLine,
        capabilities: [...AGENT_CAPABILITIES],
      });
      if (online) expectOk(await agent.heartbeat());
      return { agent, key };
    };
    await mkdir(dir, { recursive: true });
    const laptop = await enroll("laptop");
    const desktop = await enroll("desktop");
    // Registered but never heard from: listed, not pickable.
    await enroll("nas", false);
    const machines = Machine.array().parse(await ok("GET", "/api/managed-machines"));
    const idOf = (agent: FakeAgent) => machines.find((m) => m.agent_id === agent.agentId)?.id;
    const laptopId = idOf(laptop.agent) as number;
    const desktopId = idOf(desktop.agent) as number;

    const nas = await ok("POST", "/api/boxes", { name: "nas-box", url: box.url, token: box.token });
    const newRepo = async (name: string, where: Record<string, unknown>) =>
      Repository.parse(
        await ok("POST", "/api/repositories", {
          name,
          agent_machine_id: laptopId,
          passphrase: "restore elsewhere passphrase",
          source_paths: ["/home"],
          init: false,
          ...where,
        }),
      );
    const onBox = await newRepo("laptop-box", { box_id: (nas as { id: number }).id });
    const local = await newRepo("laptop-local", { location: "/srv/borg/laptop-local" });

    // The owner lists the archives and uploads the archive's listing, as its agent would.
    const answer = async (jobId: number, result: Record<string, unknown>, listing = false) => {
      expectOk(await laptop.agent.claim(jobId));
      expectOk(await laptop.agent.start(jobId));
      if (listing) {
        const sent = await laptop.agent.request("POST", `/api/agents/jobs/${jobId}/listing`, {
          sequence: 0,
          entries: LISTING,
        });
        expect(sent.status).toBe(200);
      }
      expectOk(await laptop.agent.complete(jobId, { result: { return_code: 0, ...result } }));
    };
    for (const repo of [onBox, local]) {
      const list = JobAccepted.parse(await ok("POST", `/api/repositories/${repo.id}/list`, {}));
      await answer(list.job_id, {
        archives: [{ id: "c".repeat(64), name: ARCHIVE, time: "2026-12-01T09:00:00.000000" }],
      });
      const tree = await api("GET", `/api/repositories/${repo.id}/archives/${ARCHIVE}/tree?path=/`);
      expect({ status: tree.status, body: tree.body }).toMatchObject({ status: 202 });
      await answer(
        JobAccepted.parse(tree.body).job_id,
        { entry_count: LISTING.length, chunk_count: 1 },
        true,
      );
    }

    const openDialog = async (repo: Repository) => {
      await page.goto(`${url}/repositories/${repo.id}`);
      await page.locator(`button[data-browse="${ARCHIVE}"]`).click();
      const card = page.locator(".archive-browser");
      await card.locator('tr[data-entry="home"]').waitFor();
      await card.getByLabel("Pick /home").check();
      await card.getByRole("button", { name: "Restore selected (1)" }).click();
      return page.getByRole("dialog", { name: "Restore" });
    };

    // The box repository: the picker lists every other machine the hub knows, as the hub
    // reports them; one that is not online cannot be picked.
    expectOk(await desktop.agent.heartbeat());
    let dialog = await openDialog(onBox);
    const picker = dialog.getByLabel("Restore onto");
    const others = Machine.array()
      .parse(await ok("GET", "/api/managed-machines"))
      .filter((m) => m.id !== laptopId);
    expect(others.map((m) => m.status).sort()).toEqual(["online", "pending"]);
    const options = picker.locator("option");
    expect(await options.allTextContents()).toEqual([
      "the machine that made the backup",
      ...others.map((m) => (m.status === "online" ? m.name : `${m.name} (${m.status})`)),
    ]);
    expect(
      await options.evaluateAll((o) => o.map((e) => (e as HTMLOptionElement).disabled)),
    ).toEqual([false, ...others.map((m) => m.status !== "online")]);
    expect(await picker.inputValue()).toBe(String(laptopId));
    expect(await dialog.getByText("lends that machine's SSH key").count()).toBe(0);
    await picker.selectOption(String(desktopId));
    await dialog.getByText("lends that machine's SSH key").waitFor();
    await dialog.getByLabel(/Destination on the machine/).fill("/home/anna/restored");
    await screenshot(page, "restore-elsewhere-dialog");
    const sent = page.waitForRequest(
      (r) => r.method() === "POST" && r.url() === `${url}/api/repositories/${onBox.id}/restore`,
    );
    await dialog.getByRole("button", { name: "Restore", exact: true }).click();
    expect((await sent).postDataJSON()).toEqual({
      archive: ARCHIVE,
      paths: ["/home"],
      destination: "/home/anna/restored",
      overwrite: false,
      dry_run: false,
      target_machine_id: desktopId,
    });

    // The job view: queued for the target machine, as the hub has it.
    await page.waitForURL(/\/jobs\/\d+$/);
    const jobId = Number(/\/jobs\/(\d+)$/.exec(page.url())?.[1]);
    const queued = Job.parse(await ok("GET", `/api/jobs/${jobId}`));
    expect(queued).toMatchObject({
      status: "queued",
      repository_id: onBox.id,
      agent_machine_id: desktopId,
    });
    await page.getByRole("heading", { name: `Restore #${jobId}` }).waitFor();
    await page.locator(".job-summary", { hasText: "Restore of laptop-box (on desktop)" }).waitFor();
    await page.locator(".badge", { hasText: /^queued$/ }).waitFor();
    await screenshot(page, "restore-elsewhere-job");

    // The box holds desktop's key for that repository while the job is open, and the
    // target gets the box repository's location to extract from.
    const desktopBlob = desktop.key.publicLine.split(" ")[1] as string;
    const lent = await readFile(keysFile, "utf8");
    expect(lent.split("\n").filter((l) => l.includes(desktopBlob))).toHaveLength(1);
    const claimed = expectOk(await desktop.agent.claim(jobId));
    expect(JSON.stringify(claimed)).toContain(onBox.location);
    expectOk(await desktop.agent.start(jobId));
    expectOk(await desktop.agent.fail(jobId, { error_message: "the browser test stops here" }));
    await page.locator(".badge", { hasText: /^failed$/ }).waitFor();
    await waitFor(
      "the lent key to be removed",
      async () => ((await readFile(keysFile, "utf8")).includes(desktopBlob) ? undefined : true),
      10_000,
    );

    // A repository the hub does not manage the server of: no picker, the reason instead;
    // the API refuses the same request with that reason.
    dialog = await openDialog(local);
    await dialog.getByLabel(/Destination on the machine/).waitFor();
    expect(await dialog.getByLabel("Restore onto").count()).toBe(0);
    await dialog.locator("[data-restore-elsewhere]").waitFor();
    expect(await dialog.locator("[data-restore-elsewhere]").textContent()).toContain("storage box");
    const refused = await api("POST", `/api/repositories/${local.id}/restore`, {
      archive: ARCHIVE,
      paths: ["/home"],
      destination: "/home/anna/restored",
      target_machine_id: desktopId,
    });
    expect(refused.status).toBe(400);
    expect(ErrorBody.parse(refused.body).error).toContain(
      'target_machine_id: repository "laptop-local" is not on a storage box the hub manages',
    );
    const desktopJobs = Job.array().parse(
      await ok("GET", `/api/jobs?agent_machine_id=${desktopId}`),
    );
    expect(desktopJobs.map((j) => j.id)).toEqual([jobId]);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
