/**
 * The admin's daily chores in a real browser (Debian's chromium, driven by playwright-core)
 * against the compiled hub: rename a machine and set a label; the enrollment token list
 * shows the token "Add machine" made, and an unused one is revoked; edit a repository's
 * sources (a refusal shows at its field first); the audit page lists sign-ins and agent
 * registrations and filters by action; an operator sees no Audit entry. A fake agent
 * (the agent protocol over HTTP) stands in for a real one: nothing here runs borg.
 * Screenshots go to test-output/ui/.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  AuditEvent,
  CreatedEnrollmentToken,
  EnrollmentToken,
  Machine,
  Repository,
} from "../../src/shared/protocol/api.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite } from "../helpers/browser-suite.ts";
import { FakeAgent } from "../helpers/fake-agent.ts";

const ADMIN_PASSWORD = "e2e-ui-admin-admin-password";
const OPERATOR_PASSWORD = "oscar-operator-password-1";
const PASSPHRASE = "e2e ui admin passphrase";

const suite = browserSuite({ name: "admin", adminPassword: ADMIN_PASSWORD });

describe("admin pages in chromium against the compiled hub", () => {
  test("machine rename and labels, enrollment tokens, repository edit, audit", async () => {
    const url = await suite.startHub();
    const { context, page, problems, api } = await suite.signIn(url);

    // A machine registered over the agent protocol (audited as agent.register).
    const created = CreatedEnrollmentToken.parse(
      (await api("POST", "/api/managed-machines/enrollment-tokens", { name: "nas" })).body,
    );
    const fake = await FakeAgent.enroll(url, created.token, { name: "nas", hostname: "nas.lan" });
    await fake.heartbeat();

    // "Add machine" makes a token that the list shows as unused, without a reload.
    await page.getByRole("link", { name: "Machines" }).click();
    await page.getByRole("heading", { name: "Enrollment tokens" }).waitFor();
    await page.getByRole("button", { name: "Add machine" }).click();
    await page.getByLabel("Name", { exact: true }).fill("laptop");
    await page.getByRole("button", { name: "Create registration command" }).click();
    await page.locator(".command code").first().waitFor();
    const laptopToken = page.locator('tr[data-enrollment-token="laptop"]');
    await laptopToken.getByRole("cell", { name: "unused" }).waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    const nasToken = page.locator('tr[data-enrollment-token="nas"]');
    await nasToken.getByRole("cell", { name: /^used by nas$/ }).waitFor();
    expect(await nasToken.getByRole("button", { name: "Revoke" }).count()).toBe(0);
    // The prefix shown is the start of the token, never the token.
    const prefix = ((await nasToken.locator("code").textContent()) ?? "").replace("…", "");
    expect(created.token.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(created.token.length);

    // Revoke the unused one: asks first, then the hub has it revoked.
    await laptopToken.getByRole("button", { name: "Revoke" }).click();
    await laptopToken.getByText("Revoke the token for laptop?").waitFor();
    await laptopToken.getByRole("button", { name: "Yes, revoke" }).click();
    await laptopToken.getByRole("cell", { name: "revoked" }).waitFor();
    const tokens = EnrollmentToken.array().parse(
      (await api("GET", "/api/managed-machines/enrollment-tokens")).body,
    );
    expect(tokens.find((t) => t.name === "laptop")?.revoked_at).not.toBeNull();

    // Rename the machine and give it a label; a bad label line is refused by the form.
    const nas = page.locator('tr[data-machine="nas"]');
    await nas.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("form", { name: "edit nas" });
    await edit.getByLabel("Name").fill("nas-2");
    await edit.getByLabel("Labels").fill("site home");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.getByText("line 1: write a label as key=value").waitFor();
    await edit.getByLabel("Labels").fill("site=home\nrack=3");
    await edit.getByRole("button", { name: "Save" }).click();
    const renamed = page.locator('tr[data-machine="nas-2"]');
    await renamed.waitFor();
    await edit.waitFor({ state: "detached" });
    expect(await renamed.locator(".tags li").allTextContents()).toContain("site=home");
    expect(await renamed.locator(".tags li").allTextContents()).toContain("rack=3");
    await nasToken.getByRole("cell", { name: "used by nas-2" }).waitFor();
    const machine = Machine.array()
      .parse((await api("GET", "/api/managed-machines")).body)
      .find((m) => m.agent_id === fake.agentId) as Machine;
    expect(machine).toMatchObject({ name: "nas-2", labels: { site: "home", rack: "3" } });
    await screenshot(page, "machines-edit");

    // Edit a repository's sources; an invalid compression is refused at its field first.
    const repo = Repository.parse(
      (
        await api("POST", "/api/repositories", {
          name: "nas-data",
          agent_machine_id: machine.id,
          location: join(suite.dir, "repo"),
          passphrase: PASSPHRASE,
          source_paths: ["/srv/data"],
        })
      ).body,
    );
    await page.goto(`${url}/repositories/${repo.id}`);
    await page.getByRole("heading", { name: "nas-data" }).waitFor();
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const form = page.getByRole("form", { name: "edit repository" });
    await form.getByRole("button", { name: "Save changes" }).click();
    await form.getByText("Nothing changed").waitFor();
    await form.getByLabel("Source paths", { exact: true }).fill("/srv/data\n/srv/photos");
    await form.getByLabel("Optional source paths").fill("/media/usb");
    await form.getByLabel("Compression").fill("BAD!");
    await form.getByRole("button", { name: "Save changes" }).click();
    const compressionError = form.locator('[data-field="compression"] .field-error');
    await compressionError.waitFor();
    expect(await form.getByLabel("Compression").getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "repository-edit");
    await form.getByLabel("Compression").fill("zstd,3");
    await form.getByRole("button", { name: "Save changes" }).click();
    await form.waitFor({ state: "detached" });
    await page.getByText("Saved.").waitFor();
    const sources = page.locator("dl.facts dd.lines").first();
    await page.locator("dl.facts dd", { hasText: "zstd,3" }).waitFor();
    expect(await sources.textContent()).toBe("/srv/data\n/srv/photos");
    const stored = Repository.parse((await api("GET", `/api/repositories/${repo.id}`)).body);
    expect(stored).toMatchObject({
      name: "nas-data",
      source_paths: ["/srv/data", "/srv/photos"],
      optional_source_paths: ["/media/usb"],
      compression: "zstd,3",
      has_passphrase: true,
    });

    // The audit trail: sign-ins, the registration, and what this test changed.
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByRole("heading", { name: "Audit" }).waitFor();
    for (const action of ["auth.login", "agent.register", "agent.update", "repository.update"]) {
      await page.locator(`li[data-audit="${action}"]`).first().waitFor();
    }
    // One readable line per event; the raw fields only when asked for.
    const update = page.locator('li[data-audit="repository.update"]').first();
    expect(await update.locator(".audit-line").textContent()).toBe(
      "admin changed repository nas-data (compression, optional source paths, source paths)",
    );
    await page
      .locator('li[data-audit="enrollment.create"] .audit-line', {
        hasText: /^admin created enrollment token laptop$/,
      })
      .waitFor();
    const raw = update.getByText(
      '{"fields":["compression","optional_source_paths","source_paths"]}',
    );
    expect(await raw.isVisible()).toBe(false);
    await update.locator("summary", { hasText: "Details" }).click();
    await raw.waitFor({ state: "visible" });
    expect(await page.locator("ol.audit").textContent()).not.toContain(PASSPHRASE);
    await screenshot(page, "audit");
    const events = AuditEvent.array().parse((await api("GET", "/api/audit?limit=1000")).body);
    // One page holds the whole (short) trail; what the page shows came from the hub.
    await page.getByText(/^That is all of them \(\d+\)\.$/).waitFor();
    const shownActions = await page
      .locator("li[data-audit]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-audit")));
    expect(shownActions.length).toBeGreaterThan(5);
    const known = new Set<string | null>(events.map((e) => e.action));
    expect(shownActions.filter((a) => !known.has(a))).toEqual([]);

    await page.getByLabel("Action").fill("agent.register");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("button", { name: "Show all" }).waitFor();
    await page.locator('li[data-audit="auth.login"]').first().waitFor({ state: "detached" });
    const filtered = await page
      .locator("li[data-audit]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-audit")));
    expect(filtered).toEqual(
      events.filter((e) => e.action === "agent.register").map(() => "agent.register"),
    );
    expect(filtered.length).toBeGreaterThan(0);
    await page.getByLabel("Action").fill("no.such.action");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText('No "no.such.action" events').waitFor();
    await page.getByRole("button", { name: "Show all" }).click();
    await page.locator('li[data-audit="auth.login"]').first().waitFor();

    // An operator has no Audit entry, and the hub refuses them the trail.
    expect(
      (
        await api("POST", "/api/users", {
          username: "oscar",
          password: OPERATOR_PASSWORD,
          role: "operator",
        })
      ).status,
    ).toBe(201);
    const op = await suite.signIn(url, { username: "oscar", password: OPERATOR_PASSWORD });
    expect(await op.page.getByRole("link", { name: "Machines" }).count()).toBe(1);
    expect(await op.page.getByRole("link", { name: "Audit" }).count()).toBe(0);
    expect((await op.api("GET", "/api/audit")).status).toBe(403);
    // Machines: the operator sees the fleet but no admin buttons.
    await op.page.getByRole("link", { name: "Machines" }).click();
    await op.page.locator("tr[data-machine]").first().waitFor();
    expect(await op.page.getByRole("button", { name: "Add machine" }).count()).toBe(0);
    expect(await op.page.getByRole("button", { name: "Disable" }).count()).toBe(0);
    expect(await op.page.getByText("admin only").count()).toBeGreaterThan(0);
    expect(op.problems).toEqual([]);
    await op.context.close();

    // The one refusal this test provoked (the bad compression) is the browser's own
    // network log line; nothing else may be logged.
    const refused = problems.filter((p) => p.includes("status of 400 (Bad Request)"));
    expect(refused).toHaveLength(1);
    expect(problems.filter((p) => !refused.includes(p))).toEqual([]);
    await context.close();
  }, 120_000);
});
