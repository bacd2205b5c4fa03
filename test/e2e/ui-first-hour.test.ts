/**
 * A newcomer's first hour in a real browser (Debian's chromium, playwright-core) against
 * the compiled hub (issue 18): "Add machine" is a dialog over the page whose commands carry
 * the typed name and the hub's public URL (or warn that a loopback address reaches no other
 * machine), wrap between words at phone width and copy whole; the command, run by a real
 * shell, registers the machine under that name. A failed init shows as failing with its
 * reason; jobs name their repository, machine and who started them; form errors say what to
 * type; viewers and operators see only what their role can do; only problems are coloured;
 * the dashboard, repositories and a job page fit a 390 px phone. A fake agent stands in for
 * the machine's agent where no borg is needed. Screenshots go to test-output/ui/.
 */
import { describe, expect, test } from "bun:test";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { runProcess } from "../../src/shared/process/spawn.ts";
import {
  CreatedEnrollmentToken,
  JobAccepted,
  Machine,
  Repository,
} from "../../src/shared/protocol/api.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite } from "../helpers/browser-suite.ts";
import { FakeAgent } from "../helpers/fake-agent.ts";

const ADMIN_PASSWORD = "e2e-first-hour-admin-pw";
const VIEWER_PASSWORD = "vera-viewer-password-12";
const OPERATOR_PASSWORD = "otto-operator-password-1";
const PASSPHRASE = "first hour passphrase 123";
const PHONE = { width: 390, height: 844 };

const suite = browserSuite({ name: "first-hour", adminPassword: ADMIN_PASSWORD });

/** Nothing wider than the viewport, and every badge inside it (not clipped). */
async function fitsThePhone(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  const badges = await page
    .locator(".badge")
    .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
  for (const right of badges) expect(right).toBeLessThanOrEqual(PHONE.width);
}

/** Where a <code> element's text wraps: the characters around each line break. */
function lineBreaks(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluate((code) => {
    const chars: { ch: string; top: number }[] = [];
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node as Text;
      for (let i = 0; i < text.data.length; i++) {
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        chars.push({ ch: text.data[i] ?? "", top: range.getClientRects()[0]?.top ?? -1 });
      }
    }
    const around: string[] = [];
    for (let i = 1; i < chars.length; i++) {
      if ((chars[i]?.top ?? 0) > (chars[i - 1]?.top ?? 0) + 2) {
        around.push(
          chars
            .slice(Math.max(0, i - 3), i + 1)
            .map((c) => c.ch)
            .join(""),
        );
      }
    }
    return around;
  });
}

describe("the first hour in chromium against the compiled hub", () => {
  test("Add machine: a dialog over the page; name, loopback warning, wrapping, copy, a real register", async () => {
    const url = await suite.startHub({ dir: join(suite.dir, "a") });
    const { context, page, problems } = await suite.signIn(url, { viewport: PHONE });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
    await page.getByRole("link", { name: "Machines" }).click();
    const heading = page.getByRole("heading", { name: "Machines", exact: true });
    await heading.waitFor();
    const before = await heading.boundingBox();

    // Item 18: the dialog overlays the page; the heading does not move.
    await page.getByRole("button", { name: "Add machine" }).click();
    const dialog = page.getByRole("dialog", { name: "add a machine" });
    await dialog.waitFor();
    expect(
      await page.locator(".modal-backdrop").evaluate((e) => getComputedStyle(e).position),
    ).toBe("fixed");
    expect(await heading.boundingBox()).toEqual(before);
    // Escape closes it; the page is as it was.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Add machine" }).click();

    // Item 4: the typed name (with a space and a quote) goes into both commands, shell-quoted.
    const name = "Anna's db";
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create registration command" }).click();
    const shown = page.getByRole("dialog", { name: `register ${name}` });
    await shown.waitFor();
    expect(await heading.boundingBox()).toEqual(before);
    const install = shown.locator(".command", { hasText: "install.sh" });
    const register = shown.locator(".command", { hasText: "agent register" });
    const installText = (await install.getAttribute("data-command")) ?? "";
    const registerText = (await register.getAttribute("data-command")) ?? "";
    expect(installText).toEndWith(" --name 'Anna'\\''s db'");
    expect(registerText).toEndWith(" --name 'Anna'\\''s db'");
    // Item 5: no public URL, so the browser's (loopback) address, with a warning.
    expect(registerText).toStartWith(
      `borgctl agent register --server ${url} --token borgctl_enroll_`,
    );
    expect(await shown.getByRole("status").textContent()).toContain("only this computer can reach");

    // Item 6: long commands wrap between words only (never inside the port or the token),
    // and Copy copies the whole command.
    expect(await install.locator("code").textContent()).toBe(installText);
    const breaks = await lineBreaks(page, '.command:has-text("install.sh") code');
    expect(breaks.length).toBeGreaterThan(0);
    for (const at of breaks) expect(at.at(-2)).toBe(" ");
    await install.getByRole("button", { name: "Copy" }).click();
    await install.getByText("Copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(installText);
    // The dialog fits the phone: the commands scroll inside it, the page does not widen.
    const box = await shown.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 999)).toBeLessThanOrEqual(PHONE.width);
    await fitsThePhone(page);
    await screenshot(page, "machines-add-phone");

    // The register command, run by a real shell with borgctl on its PATH, registers the
    // machine under the typed name.
    const dir = suite.dir;
    const bin = join(dir, "bin");
    await mkdir(bin, { recursive: true });
    await symlink(suite.binary, join(bin, "borgctl"));
    const state = join(dir, "agent-state");
    const ran = await runProcess({
      argv: [
        "/bin/sh",
        "-c",
        `${registerText} --config ${join(dir, "agent.toml")} --state-dir ${state}`,
      ],
      env: { HOME: dir, NO_COLOR: "1", PATH: `${bin}:/usr/bin:/bin` },
      captureStdout: true,
    });
    expect(ran.exitCode).toBe(0);
    await shown.getByRole("button", { name: "Done" }).click();
    await page.locator(`tr[data-machine="${name}"]`).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  test("Add machine uses the hub's public URL and does not warn", async () => {
    const publicUrl = "http://hub.example.com:8080";
    const url = await suite.startHub({
      dir: join(suite.dir, "b"),
      args: ["--public-url", publicUrl],
    });
    const { context, page, problems } = await suite.signIn(url);
    await page.getByRole("link", { name: "Machines" }).click();
    await page.getByRole("button", { name: "Add machine" }).click();
    await page.getByLabel("Name").fill("db-server");
    await page.getByRole("button", { name: "Create registration command" }).click();
    const register = page.locator(".command", { hasText: "agent register" });
    const text = (await register.getAttribute("data-command")) ?? "";
    expect(text).toStartWith(`borgctl agent register --server ${publicUrl} --token `);
    expect(text).toEndWith(" --name db-server");
    expect(
      await page.locator(".command", { hasText: "install.sh" }).getAttribute("data-command"),
    ).toContain(`--server ${publicUrl} `);
    expect(await page.getByText("only this computer can reach").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  test("failing repositories, named jobs, form errors, roles, colour, phone width", async () => {
    const url = await suite.startHub({ dir: join(suite.dir, "c") });
    const { context, page, problems, api } = await suite.signIn(url);
    const enroll = async (machineName: string) => {
      const created = CreatedEnrollmentToken.parse(
        (await api("POST", "/api/managed-machines/enrollment-tokens", { name: machineName })).body,
      );
      const agent = await FakeAgent.enroll(url, created.token, { name: machineName });
      await agent.heartbeat();
      return agent;
    };
    const vm = await enroll("vm");
    await enroll("nas");
    const machines = Machine.array().parse((await api("GET", "/api/managed-machines")).body);
    const vmId = machines.find((m) => m.name === "vm")?.id;
    const newRepo = async (repoName: string) =>
      Repository.parse(
        (
          await api("POST", "/api/repositories", {
            name: repoName,
            agent_machine_id: vmId,
            location: `/srv/backups/${repoName}`,
            passphrase: PASSPHRASE,
            source_paths: ["/home"],
          })
        ).body,
      );
    const broken = await newRepo("laptop-home");
    const docs = await newRepo("docs");

    // Item 9: an init that fails makes the repository failing, with the reason.
    const init = JobAccepted.parse(
      (await api("POST", `/api/repositories/${broken.id}/init`, {})).body,
    );
    expect((await vm.claim(init.job_id)).ok).toBe(true);
    await vm.start(init.job_id);
    expect(
      (await vm.fail(init.job_id, { error_message: "repository already exists", return_code: 2 }))
        .ok,
    ).toBe(true);
    // A running backup for the job page.
    const backup = JobAccepted.parse(
      (await api("POST", `/api/repositories/${docs.id}/backup`, {})).body,
    );
    await vm.claim(backup.job_id);
    await vm.start(backup.job_id);
    await vm.progress(backup.job_id, {
      progress_percent: 42,
      current_file: "/home/anna/photos/2024/IMG_0001.jpg",
    });

    await page.getByRole("link", { name: "Dashboard" }).click();
    const failing = page.locator('tr[data-repository="laptop-home"]');
    await failing.getByText("Initialize failed: repository already exists").waitFor();
    expect(await failing.getAttribute("class")).toContain("health-failing");
    expect(await page.locator("tbody tr").first().getAttribute("data-repository")).toBe(
      "laptop-home",
    );

    // Item 15: colour marks problems only: "0 offline" is not red, "1 failing" is.
    const stat = (label: string) => page.locator(".stat", { hasText: label });
    const colourOf = (label: string) =>
      stat(label)
        .locator("strong")
        .evaluate((e) => getComputedStyle(e).color);
    const textColour = await page.locator("h1").evaluate((e) => getComputedStyle(e).color);
    expect(await stat("offline").locator("strong").textContent()).toBe("0");
    expect(await colourOf("offline")).toBe(textColour);
    expect(await colourOf("online")).toBe(textColour);
    expect(await colourOf("failing")).not.toBe(textColour);
    // Freshness leads: the hub's counts, the reason beside each repository needing attention.
    expect(await stat("failing").locator("strong").textContent()).toBe("1");
    expect(await stat("never backed up").locator("strong").textContent()).toBe("1");
    expect(await stat("overdue").locator("strong").textContent()).toBe("0");
    expect(await colourOf("overdue")).toBe(textColour);
    await page
      .locator('tr[data-repository="docs"]', { hasText: "never backed up, and no backup plan" })
      .waitFor();

    // Item 10: jobs are named in words, on the dashboard, the job page and the jobs list.
    const summary = "Backup of docs (on vm), started by admin";
    await page.getByRole("link", { name: summary }).click();
    await page.getByRole("heading", { name: `Backup #${backup.job_id}` }).waitFor();
    await page.locator(".job-summary", { hasText: summary }).waitFor();
    expect(await page.locator("dl.facts").textContent()).not.toContain("user:");
    await page.getByRole("link", { name: "Jobs" }).first().click();
    const row = page.locator(`tr[data-job="${init.job_id}"]`);
    await row.waitFor();
    expect(await row.locator('td[data-label="Started by"]').textContent()).toBe("admin");
    expect(await row.locator('td[data-label="Repository"]').textContent()).toBe("laptop-home");

    // Item 11: form errors say what to type.
    await page.getByRole("link", { name: "Repositories", exact: true }).click();
    await page.getByRole("button", { name: "New repository" }).click();
    await page.getByRole("button", { name: "Create repository" }).click();
    await page
      .locator('[data-field="source_paths"] .field-error', {
        hasText: "Give at least one folder to back up",
      })
      .waitFor();
    expect(await page.locator('[data-field="name"] .field-error').textContent()).toBe(
      "Give the repository a name, e.g. laptop-home",
    );
    expect(await page.locator(".field-error").allTextContents()).not.toContainEqual(
      expect.stringMatching(/too small|expected/i),
    );
    await screenshot(page, "repository-form-errors");
    await page.getByRole("button", { name: "Cancel" }).click();

    // Item 17: the dashboard, repositories and a job page fit a 390 px phone.
    await page.setViewportSize(PHONE);
    await page.getByRole("link", { name: "Dashboard" }).click();
    await failing.getByText("Initialize failed").waitFor();
    await fitsThePhone(page);
    await screenshot(page, "dashboard-phone");
    await page.getByRole("link", { name: "Repositories", exact: true }).click();
    await page.locator('tr[data-repository="laptop-home"]').waitFor();
    expect(
      await page.locator('tr[data-repository="laptop-home"] [data-freshness]').textContent(),
    ).toBe("failing");
    await fitsThePhone(page);
    // Each repository is a card: its location is on screen, not off to the right.
    const location = page.locator('tr[data-repository="laptop-home"] td[data-label="Location"]');
    expect(((await location.boundingBox())?.x ?? 999) + 1).toBeLessThan(PHONE.width);
    await screenshot(page, "repositories-phone");
    await page.goto(`${url}/jobs/${backup.job_id}`);
    await page.locator(".job-summary", { hasText: summary }).waitFor();
    await fitsThePhone(page);
    await screenshot(page, "job-phone");
    expect(problems.filter((p) => !p.includes("400 (Bad Request)"))).toEqual([]);

    // Item 12: a viewer sees no run, delete or edit buttons; an operator runs jobs only.
    for (const [username, role, password] of [
      ["vera", "viewer", VIEWER_PASSWORD],
      ["otto", "operator", OPERATOR_PASSWORD],
    ] as const) {
      expect((await api("POST", "/api/users", { username, password, role })).status).toBe(201);
      const signed = await suite.signIn(url, { username, password });
      const p = signed.page;
      const runs = role === "operator" ? 1 : 0;
      await p.getByRole("link", { name: "Repositories", exact: true }).click();
      await p.locator('tr[data-repository="docs"]').waitFor();
      expect(await p.getByRole("button", { name: "New repository" }).count()).toBe(0);
      await p
        .locator("table")
        .getByRole("button", { name: "Back up now" })
        .first()
        .waitFor({
          state: runs ? "visible" : "detached",
        });
      await p.getByRole("link", { name: "docs" }).click();
      await p.getByRole("heading", { name: "docs" }).waitFor();
      await p.getByRole("heading", { name: "Settings" }).waitFor();
      expect(await p.getByRole("button", { name: "Back up now" }).count()).toBe(runs);
      expect(await p.getByRole("button", { name: "Break lock" }).count()).toBe(runs);
      expect(await p.getByRole("button", { name: "Delete repository" }).count()).toBe(0);
      expect(await p.getByRole("button", { name: "Edit", exact: true }).count()).toBe(0);
      await p.goto(`${url}/jobs/${backup.job_id}`);
      await p.locator(".job-summary").waitFor();
      expect(await p.getByRole("button", { name: "Cancel job" }).count()).toBe(runs);
      expect(signed.problems).toEqual([]);
      await signed.context.close();
    }
    await context.close();
  }, 120_000);
});
