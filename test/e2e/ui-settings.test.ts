/**
 * Settings, machine actions and the job outcome in a real browser (Debian's chromium,
 * driven by playwright-core) against the compiled hub: an admin creates an operator, who
 * sees no Users section and makes an API token that is shown once, works as a Bearer
 * token and stops working when revoked; a machine registered over the agent protocol is
 * disabled and enabled; a real agent runs a real borg backup whose stats the job page
 * shows. Screenshots go to test-output/ui/ (the README's come from
 * ui-readme-screenshots.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreatedEnrollmentToken, Machine, Me, Repository } from "../../src/shared/protocol/api.ts";
import { screenshot } from "../helpers/browser.ts";
import { browserSuite, runJob } from "../helpers/browser-suite.ts";
import { FakeAgent } from "../helpers/fake-agent.ts";

const ADMIN_PASSWORD = "e2e-ui-settings-admin-password";
const OPERATOR_PASSWORD = "olivia-operator-password-1";
const PASSPHRASE = "e2e ui settings passphrase";

const suite = browserSuite({ name: "settings", adminPassword: ADMIN_PASSWORD });

describe("settings, machine actions and job outcome in chromium against the compiled hub", () => {
  test("users, API tokens shown once, machine disable/enable/delete, backup stats", async () => {
    const url = await suite.startHub();
    const { context: adminContext, page, problems, api } = await suite.signIn(url);

    // Users: create an operator; the hub's refusal to demote the last admin is shown
    // next to the admin's role.
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();
    const newUser = page.getByRole("form", { name: "new user" });
    await newUser.getByLabel("Username").fill("olivia");
    await newUser.getByLabel("Password").fill(OPERATOR_PASSWORD);
    await newUser.getByLabel("Role").selectOption("operator");
    await newUser.getByRole("button", { name: "Create user" }).click();
    const olivia = page.locator('tr[data-user="olivia"]');
    await olivia.waitFor();
    expect(await olivia.getByLabel("Role of olivia").inputValue()).toBe("operator");
    const adminRow = page.locator('tr[data-user="admin"]');
    await adminRow.getByLabel("Role of admin").selectOption("viewer");
    await adminRow.getByRole("alert").waitFor();
    expect(await adminRow.getByRole("alert").textContent()).toBe(
      "the last admin cannot be demoted",
    );
    expect(await adminRow.getByLabel("Role of admin").inputValue()).toBe("admin");
    await screenshot(page, "settings");
    // Too short a password is refused by the form itself, before any request.
    await newUser.getByLabel("Username").fill("shorty");
    await newUser.getByLabel("Password").fill("short");
    await newUser.getByRole("button", { name: "Create user" }).click();
    expect(await page.locator('tr[data-user="shorty"]').count()).toBe(0);

    // The operator, in a browser of their own: no Users section, only their tokens.
    const op = await suite.signIn(url, { username: "olivia", password: OPERATOR_PASSWORD });
    await op.page.getByRole("link", { name: "Settings" }).click();
    await op.page.getByRole("heading", { name: "API tokens" }).waitFor();
    expect(await op.page.getByRole("heading", { name: "Users" }).count()).toBe(0);
    await op.page.getByText("No API tokens yet").waitFor();
    const roleOptions = await op.page.getByLabel("Token role").locator("option").allTextContents();
    expect(roleOptions).toEqual(["operator", "viewer"]);
    await op.page.getByLabel("Token name").fill("monitoring");
    await op.page.getByLabel("Token role").selectOption("operator");
    await op.page.getByLabel("Expires in days").fill("30");
    await op.page.getByRole("button", { name: "Create token" }).click();
    const shown = op.page.locator(".new-token code").first();
    await shown.waitFor();
    const token = (await shown.textContent()) ?? "";
    expect(token).toMatch(/^borgctl_api_/);
    await op.page.getByText("only time it is shown").waitFor();
    await screenshot(op.page, "settings-token-created");
    const row = op.page.locator('tr[data-token="monitoring"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("operator");

    const meWith = (bearer: string) =>
      fetch(`${url}/api/auth/me`, { headers: { authorization: `Bearer ${bearer}` } });
    const me = await meWith(token);
    expect(me.status).toBe(200);
    expect(Me.parse(await me.json())).toMatchObject({
      username: "olivia",
      role: "operator",
      via: "api_token",
    });

    // After a reload only the prefix is left.
    await op.page.reload();
    await row.waitFor();
    expect(await op.page.getByText(token).count()).toBe(0);
    const prefix = ((await row.locator("code").textContent()) ?? "").replace("…", "");
    expect(prefix.length).toBeGreaterThan(8);
    expect(token.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(token.length);

    // Revoke asks first; then the token is refused.
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByText("Revoke monitoring?").waitFor();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await op.page.getByText("No API tokens yet").waitFor();
    expect((await meWith(token)).status).toBe(401);
    expect(op.problems).toEqual([]);
    await op.context.close();

    // A machine registered over the agent protocol, with labels; disable and enable.
    const enroll = async (name: string) =>
      CreatedEnrollmentToken.parse(
        (await api("POST", "/api/managed-machines/enrollment-tokens", { name })).body,
      ).token;
    const fake = await FakeAgent.enroll(url, await enroll("nas"), { hostname: "nas.lan" });
    await fake.heartbeat();
    const fakeMachine = Machine.array()
      .parse((await api("GET", "/api/managed-machines")).body)
      .find((m) => m.agent_id === fake.agentId) as Machine;
    const labelled = await api("PATCH", `/api/managed-machines/${fakeMachine.id}`, {
      name: "nas",
      labels: { site: "home" },
    });
    expect(labelled.status).toBe(200);
    Machine.parse(labelled.body);

    await page.getByRole("link", { name: "Machines" }).click();
    const nas = page.locator('tr[data-machine="nas"]');
    await nas.locator(".badge", { hasText: "online" }).waitFor();
    expect(await nas.locator(".tags li").allTextContents()).toEqual([
      "backup.create",
      "backup.cancel",
      "logs.stream",
      "site=home",
    ]);
    await nas.getByRole("button", { name: "Disable" }).click();
    await nas.locator(".badge", { hasText: "disabled" }).waitFor();
    expect((await fake.heartbeat()).ok).toBe(false);
    await nas.getByRole("button", { name: "Enable" }).click();
    await nas.getByRole("button", { name: "Disable" }).waitFor();
    expect(await nas.locator(".badge").textContent()).not.toBe("disabled");

    // "Add machine" shows both the install one-liner and the manual register command.
    await page.getByRole("button", { name: "Add machine" }).click();
    await page.getByLabel("Name").fill("laptop");
    await page.getByRole("button", { name: "Create registration command" }).click();
    // allTextContents does not wait: wait for the token's two commands first.
    await page.locator(".command code").nth(1).waitFor();
    const commands = await page.locator(".command code").allTextContents();
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(
      new RegExp(
        `^curl -fsSL https://github\\.com/borgctl/borgctl/releases/latest/download/install\\.sh \\| sudo bash -s -- agent --server ${url.replaceAll(".", "\\.")} --token borgctl_enroll_\\S+ --name laptop$`,
      ),
    );
    const enrollToken = /--token (\S+)/.exec(commands[1] ?? "")?.[1] as string;
    expect(commands[1]).toBe(
      `borgctl agent register --server ${url} --token ${enrollToken} --name laptop`,
    );
    expect(commands[0]).toEndWith(`--token ${enrollToken} --name laptop`);
    await screenshot(page, "machines-actions");

    // The real agent registers with that command and runs a real backup.
    await suite.startAgent(url, enrollToken, { name: "laptop" });
    await page.getByRole("button", { name: "Done" }).click();
    const laptop = page.locator('tr[data-machine="laptop"]');
    await laptop.locator(".badge", { hasText: "online" }).waitFor({ timeout: 20_000 });
    const laptopMachine = Machine.array()
      .parse((await api("GET", "/api/managed-machines")).body)
      .find((m) => m.name === "laptop") as Machine;

    const sources = join(suite.dir, "data");
    await mkdir(sources);
    for (let i = 0; i < 30; i++) {
      await writeFile(join(sources, `file-${i}.txt`), `line ${i}\n`.repeat(2000));
    }
    const repo = Repository.parse(
      (
        await api("POST", "/api/repositories", {
          name: "laptop-home",
          agent_machine_id: laptopMachine.id,
          location: join(suite.dir, "repo"),
          passphrase: PASSPHRASE,
          source_paths: [sources],
        })
      ).body,
    );
    const init = await runJob(api, `/api/repositories/${repo.id}/init`);
    expect(init.status).toBe("completed");
    const done = await runJob(api, `/api/repositories/${repo.id}/backup`);
    expect(done.status).toBe("completed");

    // The job page shows the backup's stats.
    await page.goto(`${url}/jobs/${done.id}`);
    await page.locator(".badge", { hasText: /^completed$/ }).waitFor();
    const stats = page.getByLabel("backup stats");
    await stats.waitFor();
    const statsText = (await stats.textContent()) ?? "";
    for (const label of ["Original size", "Compressed size", "Deduplicated size", "Files"]) {
      expect(statsText).toContain(label);
    }
    expect(statsText).toContain(String(done.result?.stats?.nfiles));
    await page.getByText("borg wrote no log lines").or(page.locator(".log")).first().waitFor();
    await screenshot(page, "job-stats");

    // Jobs list: filter by repository and machine; nothing matches the fake machine.
    await page.getByRole("link", { name: "Jobs" }).first().click();
    await page.locator(`tr[data-job="${done.id}"]`).waitFor();
    await page.getByLabel("Repository").selectOption(String(repo.id));
    await page.locator(`tr[data-job="${init.id}"]`).waitFor();
    await page.getByLabel("Machine").selectOption(String(fakeMachine.id));
    await page.getByText("No jobs match these filters").waitFor();
    await page.getByLabel("Repository").selectOption("");
    await page.getByLabel("Machine").selectOption("");
    await page.locator(`tr[data-job="${done.id}"]`).waitFor();
    expect(await page.getByText("That is all of them (2).").count()).toBe(1);

    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("cell", { name: "laptop-home" }).waitFor();
    await screenshot(page, "dashboard-after-backup");

    // Deleting a machine that a repository uses is refused in plain words; an unused one goes.
    await page.getByRole("link", { name: "Machines" }).click();
    await laptop.getByRole("button", { name: "Delete" }).click();
    await laptop.getByText("Delete laptop?").waitFor();
    await laptop.getByRole("button", { name: "Yes, delete" }).click();
    await laptop.getByRole("alert").waitFor();
    expect(await laptop.getByRole("alert").textContent()).toContain("used by 1 repository");
    await nas.getByRole("button", { name: "Delete" }).click();
    await nas.getByRole("button", { name: "Yes, delete" }).click();
    await nas.waitFor({ state: "detached" });

    // The two refusals this test provoked (demote the last admin, delete a used machine)
    // are the browser's own network log lines; nothing else may be logged.
    const conflicts = problems.filter((p) => p.includes("status of 409 (Conflict)"));
    expect(conflicts).toHaveLength(2);
    expect(problems.filter((p) => !conflicts.includes(p))).toEqual([]);
    await adminContext.close();
  }, 120_000);
});
