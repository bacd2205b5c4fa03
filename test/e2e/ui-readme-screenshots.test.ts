/**
 * The README's screenshots (issue 18 item 19), taken from a realistic fleet in a real
 * browser (Debian's chromium, playwright-core) against the compiled hub: five machines —
 * one real agent running real borg, four fake agents speaking the agent protocol over
 * HTTP — and a repository in each freshness state: protected (the real backup, and one
 * more), overdue (its last success four days ago on a daily interval, its machine gone
 * quiet), failing (a backup that failed), never backed up (a plan is set, nothing ran
 * yet), plus a backup running right now with its progress.
 *
 * The hub sets every time itself (the agent protocol has no say in when a job finished),
 * so "four days ago" is written into the hub's SQLite file while it runs, the way a
 * machine that stopped days ago would have left it; the hub's own sweeps then mark the
 * repository overdue and the machine offline (≤ 15 s), which the test waits for.
 *
 * Four pictures: the dashboard, the real backup's job page, the repositories list and
 * the archive's file browser with two files picked to restore. Each is taken only after
 * the page is checked to show what it claims (counts, names, the running badge, stats,
 * borg's log line, the folder's files), at a fixed viewport. They always
 * go to test-output/ui/readme/; with UPDATE_SCREENSHOTS=1 also to docs/screenshots/ for
 * the README (so a normal run never changes tracked files).
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { copyFile, mkdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import {
  CreatedEnrollmentToken,
  JobAccepted,
  Machine,
  Repository,
} from "../../src/shared/protocol/api.ts";
import { REPO_ROOT } from "../helpers/binary.ts";
import { SHOTS } from "../helpers/browser.ts";
import { browserSuite, finishedJob } from "../helpers/browser-suite.ts";
import { expectOk, FakeAgent } from "../helpers/fake-agent.ts";
import { waitFor } from "../helpers/fleet.ts";

const ADMIN_PASSWORD = "e2e-readme-shots-admin-pw";
const PASSPHRASE = "readme screenshots passphrase";
const VIEWPORT = { width: 1280, height: 1000 };
const DAY_MS = 86_400_000;
const OUTPUT = join(SHOTS, "readme");
const README_SHOTS = process.env.UPDATE_SCREENSHOTS
  ? join(REPO_ROOT, "docs", "screenshots")
  : undefined;
/** The laptop's Documents folder (name, KiB), shown in the file browser's picture. */
const DOCUMENTS: [string, number][] = [
  ["budget-2026.ods", 48],
  ["cv.odt", 36],
  ["lease-agreement.pdf", 412],
  ["meeting-notes.md", 12],
  ["passport-scan.jpg", 880],
  ["taxes-2025.pdf", 1_240],
  ["thesis-draft.tex", 164],
];
const PHOTOS = 12;
/** What a committed screenshot may weigh. */
const MAX_SHOT_BYTES = 300 * 1024;

// Refreshing the committed pictures: paths that read well and stay the same per run.
const suite = browserSuite({
  name: "readme",
  adminPassword: ADMIN_PASSWORD,
  fixedDir: README_SHOTS ? join(tmpdir(), "borgctl-readme") : undefined,
});

/**
 * A viewport screenshot to test-output/ui/readme/<name>.png, copied to docs/screenshots/
 * with UPDATE_SCREENSHOTS=1. Called only once the page's content has been checked.
 */
async function readmeShot(page: Page, name: string, only?: Locator): Promise<void> {
  // No caret or hover state in the picture.
  await page.mouse.move(0, 0);
  const path = join(OUTPUT, `${name}.png`);
  await (only ?? page).screenshot({ path, animations: "disabled", caret: "hide" });
  expect((await stat(path)).size).toBeLessThan(MAX_SHOT_BYTES);
  if (README_SHOTS) await copyFile(path, join(README_SHOTS, `${name}.png`));
}

describe("README screenshots of a realistic fleet in chromium against the compiled hub", () => {
  test("dashboard, a finished backup's job page, repositories, the file browser", async () => {
    await mkdir(OUTPUT, { recursive: true });
    const url = await suite.startHub();
    const dir = suite.dir;
    const { context, page, problems, api } = await suite.signIn(url, { viewport: VIEWPORT });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await api(method, path, body);
      if (r.status >= 300)
        throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const enrollmentToken = async (name: string) =>
      CreatedEnrollmentToken.parse(
        await ok("POST", "/api/managed-machines/enrollment-tokens", { name }),
      ).token;

    // The real machine first: its agent comes online while the fakes are set up.
    await suite.startAgent(url, await enrollmentToken("laptop"), {
      name: "laptop",
      at: join(dir, "laptop"),
    });

    const fake = async (name: string) => {
      const agent = await FakeAgent.enroll(url, await enrollmentToken(name), {
        name,
        hostname: `${name}.lan`,
      });
      expectOk(await agent.heartbeat());
      return agent;
    };
    const db = await fake("db-server");
    const nas = await fake("nas");
    const media = await fake("media-pc");
    const web = await fake("web-1");

    const machineId = async (name: string) =>
      waitFor(
        `machine ${name}`,
        async () =>
          Machine.array()
            .parse(await ok("GET", "/api/managed-machines"))
            .find((m) => m.name === name)?.id,
        10_000,
      );
    const newRepo = async (name: string, machine: string, extra: Record<string, unknown> = {}) =>
      Repository.parse(
        await ok("POST", "/api/repositories", {
          name,
          agent_machine_id: await machineId(machine),
          location: `/srv/borg/${name}`,
          passphrase: PASSPHRASE,
          source_paths: ["/home", "/etc"],
          ...extra,
        }),
      );
    const backupOf = async (repo: Repository) =>
      JobAccepted.parse(await ok("POST", `/api/repositories/${repo.id}/backup`, {})).job_id;

    // A nightly plan, due hours from now whatever the time (so none fires during the test).
    const nightly = async (repo: Repository, hoursAhead: number) =>
      ok("POST", "/api/plans", {
        repository_id: repo.id,
        name: "nightly",
        schedule: `0 ${(new Date().getUTCHours() + hoursAhead) % 24} * * *`,
        timezone: "UTC",
        retention: { keep_daily: 7, keep_weekly: 4 },
      });

    // laptop-home: a real init and a real backup of real files, with a nightly plan. The
    // mailbox is being written while borg reads it (mail arriving), so borg warns that it
    // changed: the job page then has a log to show, as real backups often do.
    const sources = join(dir, "laptop", "home");
    await mkdir(join(sources, "Documents"), { recursive: true });
    await mkdir(join(sources, "Photos", "2026"), { recursive: true });
    await mkdir(join(sources, "Mail"), { recursive: true });
    for (const [name, kib] of DOCUMENTS) {
      await writeFile(join(sources, "Documents", name), randomBytes(kib * 1024));
    }
    for (let i = 1; i <= PHOTOS; i++) {
      const name = `IMG_${String(4100 + i).padStart(4, "0")}.jpg`;
      await writeFile(join(sources, "Photos", "2026", name), randomBytes(96 * 1024 + i * 4096));
    }
    const mailbox = join(sources, "Mail", "inbox.mbox");
    await writeFile(mailbox, randomBytes(24 * 1024 * 1024));
    const laptopHome = await newRepo("laptop-home", "laptop", {
      location: join(dir, "laptop", "repo"),
      source_paths: [sources],
      archive_name: "laptop-{now}",
    });
    await nightly(laptopHome, 5);
    const waitForJob = (id: number) => finishedJob(api, id, 40_000);
    const realBackup = (async () => {
      const init = JobAccepted.parse(
        await ok("POST", `/api/repositories/${laptopHome.id}/init`, {}),
      ).job_id;
      expect((await waitForJob(init)).status).toBe("completed");
      // A line every few milliseconds: its ctime moves while borg reads the 24 MiB.
      const mail = setInterval(() => appendFileSync(mailbox, "From: a@example.org\n"), 3);
      try {
        return await waitForJob(await backupOf(laptopHome));
      } finally {
        clearInterval(mail);
      }
    })();
    // Awaited below; a failure before that must not surface as an unhandled rejection.
    realBackup.catch(() => undefined);

    /** Claims and starts a fake agent's queued backup. */
    const begin = async (agent: FakeAgent, jobId: number) => {
      expectOk(await agent.claim(jobId));
      expectOk(await agent.start(jobId));
    };
    const stats = (files: number, bytes: number) => ({
      original_size: bytes,
      compressed_size: Math.round(bytes * 0.6),
      deduplicated_size: Math.round(bytes * 0.05),
      nfiles: files,
    });

    // db-etc: protected, backed up by db-server just now.
    const dbEtc = await newRepo("db-etc", "db-server", { source_paths: ["/etc"] });
    await nightly(dbEtc, 4);
    const dbEtcJob = await backupOf(dbEtc);
    await begin(db, dbEtcJob);
    expectOk(
      await db.complete(dbEtcJob, {
        result: {
          return_code: 0,
          archive_name: "db-server-etc-2026",
          stats: stats(1_412, 9_800_000),
        },
      }),
    );

    // db-dumps: failing, its last backup could not get the repository's lock.
    const dbDumps = await newRepo("db-dumps", "db-server", { source_paths: ["/var/backups"] });
    await nightly(dbDumps, 4);
    const dbDumpsJob = await backupOf(dbDumps);
    await begin(db, dbDumpsJob);
    expectOk(
      await db.fail(dbDumpsJob, {
        error_message: "Failed to create/acquire the lock /srv/borg/db-dumps/lock.exclusive",
        return_code: 2,
      }),
    );

    // nas-photos: backed up once, expected daily; nas then went quiet (backdated below).
    const nasPhotos = await newRepo("nas-photos", "nas", {
      source_paths: ["/volume1/photos"],
      expected_interval_seconds: 86_400,
    });
    const nasJob = await backupOf(nasPhotos);
    await begin(nas, nasJob);
    expectOk(
      await nas.complete(nasJob, {
        result: {
          return_code: 0,
          archive_name: "nas-photos-2026",
          stats: stats(48_210, 212_000_000_000),
        },
      }),
    );

    // media-library: backed up before, and a backup running right now, 42 % through.
    const mediaLibrary = await newRepo("media-library", "media-pc", {
      source_paths: ["/srv/media"],
    });
    await nightly(mediaLibrary, 7);
    const mediaFirst = await backupOf(mediaLibrary);
    await begin(media, mediaFirst);
    expectOk(
      await media.complete(mediaFirst, {
        result: {
          return_code: 0,
          archive_name: "media-pc-2026",
          stats: stats(3_050, 60_000_000_000),
        },
      }),
    );
    const mediaJob = await backupOf(mediaLibrary);
    await begin(media, mediaJob);
    expectOk(
      await media.progress(mediaJob, {
        progress_percent: 42,
        current_file: "/srv/media/films/2019/holiday.mkv",
        original_size: 61_000_000_000,
        nfiles: 3_120,
      }),
    );

    // web-1-etc: a nightly plan, nothing run yet.
    const webEtc = await newRepo("web-1-etc", "web-1", { source_paths: ["/etc", "/var/www"] });
    await nightly(webEtc, 6);
    expectOk(await web.heartbeat());

    // Four days ago: nas's last backup and last heartbeat. The hub's sweeps (every 15 s)
    // turn that into an overdue repository and an offline machine.
    const nasId = await machineId("nas");
    const fourDaysAgo = Date.now() - 4 * DAY_MS;
    const sqlite = new Database(join(dir, "hub", "borgctl.sqlite"));
    try {
      sqlite.run("PRAGMA busy_timeout = 10000");
      sqlite.run("UPDATE repositories SET last_backup_at = ? WHERE id = ?", [
        fourDaysAgo,
        nasPhotos.id,
      ]);
      sqlite.run("UPDATE jobs SET created_at = ?, started_at = ?, completed_at = ? WHERE id = ?", [
        fourDaysAgo - 60_000,
        fourDaysAgo - 50_000,
        fourDaysAgo,
        nasJob,
      ]);
      sqlite.run("UPDATE agent_machines SET last_seen_at = ? WHERE id = ?", [fourDaysAgo, nasId]);
    } finally {
      sqlite.close();
    }

    const done = await realBackup;
    expect(done.status).toBe("completed_with_warnings");
    const nfiles = done.result?.stats?.nfiles;
    expect(nfiles).toBe(DOCUMENTS.length + PHOTOS + 1);

    // The dashboard: the hub's freshness counts, machines, the attention list, the
    // running job with its badge and bar. Protected: laptop-home, db-etc, media-library.
    await page.goto(url);
    const stat = (label: string) =>
      page.locator(".stat", { hasText: new RegExp(`^\\d+ ${label}$`) }).locator("strong");
    const expected: [string, string][] = [
      ["protected", "3"],
      ["overdue", "1"],
      ["failing", "1"],
      ["never backed up", "1"],
      ["online", "4"],
      ["offline", "1"],
      ["jobs running or queued", "1"],
    ];
    // The sweeps run every 15 s and the dashboard reloads every 5 s: wait for both.
    await waitFor(
      "the dashboard to show the whole fleet",
      async () => {
        const seen = await Promise.all(expected.map(([label]) => stat(label).textContent()));
        return seen.every((s, i) => s === expected[i]?.[1]) ? true : undefined;
      },
      45_000,
      500,
    ).catch(async (error) => {
      const seen = await page.locator(".stats").allTextContents();
      throw new Error(`${(error as Error).message}; dashboard shows ${seen.join(" | ")}`);
    });
    const row = (name: string) => page.locator(`tr[data-repository="${name}"]`);
    const attention = page.locator('[data-table="attention"] tbody tr');
    expect(await attention.evaluateAll((rows) => rows.map((r) => r.dataset.repository))).toEqual([
      "db-dumps",
      "nas-photos",
      "web-1-etc",
    ]);
    expect(await row("db-dumps").getAttribute("class")).toContain("health-failing");
    expect(await row("db-dumps").textContent()).toContain("lock.exclusive");
    expect(await row("nas-photos").getAttribute("class")).toContain("health-overdue");
    expect(await row("nas-photos").textContent()).toContain("no successful backup for 4d");
    expect(await row("web-1-etc").getAttribute("class")).toContain("health-never");
    expect(await row("web-1-etc").locator("[data-next-run]").textContent()).toMatch(/^in /);
    const protectedRows = page.locator('[data-table="protected"] tbody tr');
    expect(
      await protectedRows
        .evaluateAll((rows) => rows.map((r) => r.dataset.repository))
        .then((n) => n.sort()),
    ).toEqual(["db-etc", "laptop-home", "media-library"]);
    expect(await row("laptop-home").locator("[data-next-run]").textContent()).toMatch(/^in /);
    const running = page.locator(`.job-cards li[data-job="${mediaJob}"]`);
    expect(await running.textContent()).toContain("Backup of media-library (on media-pc)");
    expect(await running.locator(".badge").textContent()).toBe("running");
    expect(await running.locator("progress").getAttribute("value")).toBe("42");
    await readmeShot(page, "dashboard");

    // A finished real backup: the job page names what ran where, shows borg's numbers
    // and its log.
    await page.goto(`${url}/jobs/${done.id}`);
    await page.locator(".badge", { hasText: /^completed with warnings$/ }).waitFor();
    await page.getByText("Backup of laptop-home (on laptop)").first().waitFor();
    const statsBlock = page.getByLabel("backup stats");
    await statsBlock.waitFor();
    const statsText = (await statsBlock.textContent()) ?? "";
    for (const label of ["Original size", "Compressed size", "Deduplicated size", "Files"]) {
      expect(statsText).toContain(label);
    }
    expect(statsText).toContain(String(nfiles));
    expect(await page.locator("dd", { hasText: /^laptop-\d{4}-/ }).count()).toBe(1);
    // borg's own warning, as the agent streamed it.
    await page
      .locator("pre.log", { hasText: `${mailbox}: file changed while we backed it up` })
      .waitFor({ timeout: 10_000 });
    // The job page is short: a shorter fixed viewport, no empty half.
    await page.setViewportSize({ width: VIEWPORT.width, height: 600 });
    await readmeShot(page, "job");
    await page.setViewportSize(VIEWPORT);

    // Repositories: all six with their last backup.
    await page.getByRole("link", { name: "Repositories" }).first().click();
    await page.locator('tr[data-repository="laptop-home"]').waitFor();
    expect(
      (
        await page
          .locator("tbody tr[data-repository]")
          .evaluateAll((rows) => rows.map((r) => r.dataset.repository))
      ).sort(),
    ).toEqual(["db-dumps", "db-etc", "laptop-home", "media-library", "nas-photos", "web-1-etc"]);
    await readmeShot(page, "repositories");

    // The file browser of laptop-home's archive (its first visit lists the archive on the
    // laptop, with real borg), opened at the Documents folder, two files picked to restore.
    await page.goto(`${url}/repositories/${laptopHome.id}`);
    await page.locator("button[data-browse]").first().click();
    const browserCard = page.locator(".archive-browser");
    const parts = join(sources, "Documents").replace(/^\/+/, "").split("/");
    await browserCard.locator(`tr[data-entry="${parts[0]}"]`).waitFor({ timeout: 30_000 });
    for (const [i, part] of parts.entries()) {
      await browserCard.locator(`tr[data-entry="${part}"] button`).click();
      await browserCard
        .locator(`button[data-crumb="/${parts.slice(0, i + 1).join("/")}"]`)
        .waitFor();
    }
    await browserCard.locator('tr[data-entry="taxes-2025.pdf"]').waitFor();
    expect(
      await browserCard
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-entry"))),
    ).toEqual(DOCUMENTS.map(([name]) => name).sort());
    const documents = `/${parts.join("/")}`;
    await browserCard.getByLabel(`Pick ${documents}/taxes-2025.pdf`).check();
    await browserCard.getByLabel(`Pick ${documents}/lease-agreement.pdf`).check();
    await browserCard.getByRole("button", { name: "Restore selected (2)" }).waitFor();
    await browserCard.scrollIntoViewIfNeeded();
    await readmeShot(page, "file-browser", browserCard);

    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});
