/**
 * What the browser tests (test/e2e/ui*.test.ts) share: the compiled hub started as a real
 * process, Debian's chromium launched through playwright-core, signing in while collecting
 * the page's console errors, screenshots for reviewers, and the API called with a signed-in
 * context's session cookie. Each test keeps its own steps and assertions; the lifecycle
 * around them (binary, temp dir, browser, teardown) is browserSuite() in browser-suite.ts.
 */
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { REPO_ROOT } from "./binary.ts";

/** Where screenshots for reviewers go (not tracked). */
export const SHOTS = join(REPO_ROOT, "test-output", "ui");
const CHROMIUM = "/usr/bin/chromium";

/** Chromium as root in a container: no sandbox, no GPU, nothing phoning home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

export interface CompiledHubOptions {
  /** The compiled borgctl binary. */
  binary: string;
  /** The test's temp dir: HOME, and the hub's data dir is `<dir>/hub`. */
  dir: string;
  adminPassword: string;
  /** The started hub is added here, for stopProcesses() in afterAll. */
  processes: SpawnedProcess[];
  /** More `borgctl server` flags, e.g. `["--public-url", "http://hub.example.com:8080"]`. */
  args?: string[];
  /** More environment for the hub process. */
  env?: Record<string, string>;
}

/** Starts `borgctl server` on a free port and resolves to its URL once it is listening. */
export async function startCompiledHub(options: CompiledHubOptions): Promise<string> {
  const { binary, dir, adminPassword, processes, args = [], env = {} } = options;
  const lines: string[] = [];
  const listening = Promise.withResolvers<string>();
  const proc = spawnProcess({
    argv: [binary, "server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "hub"), ...args],
    cwd: "/",
    env: { NO_COLOR: "1", HOME: dir, BORGCTL_ADMIN_PASSWORD: adminPassword, ...env },
    onStdoutLine: (line) => lines.push(line),
    onStderrLine: (line) => {
      lines.push(line);
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  processes.push(proc);
  return Promise.race([
    listening.promise,
    proc.done.then((r) => {
      throw new Error(`hub exited (${r.exitCode}): ${lines.join("\n")}`);
    }),
  ]);
}

/** Cancels every process a test started and waits for all of them to end. */
export async function stopProcesses(processes: SpawnedProcess[]): Promise<void> {
  for (const proc of processes) proc.cancel();
  await Promise.all(processes.map((p) => p.done));
}

/** A full-page screenshot to test-output/ui/<name>.png. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Collects the page's console errors and uncaught exceptions into the returned list. */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** Opens a page, signs in and waits for the dashboard; problems start empty after that. */
export async function signIn(
  context: BrowserContext,
  url: string,
  username: string,
  password: string,
): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems = collectProblems(page);
  await page.goto(url);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  // The signed-out first load's 401 from /api/auth/me is the browser's own network log line.
  problems.length = 0;
  return { page, problems };
}

/** The API as a signed-in browser context (its session cookie). */
export function apiAs(url: string, context: BrowserContext) {
  return async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> => {
    const cookie = (await context.cookies()).find((c) => c.name === "borgctl_session");
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        // A cookie-authenticated change must come from the hub's origin, as the browser's would (csrf.ts).
        origin: url,
        "content-type": "application/json",
        cookie: `borgctl_session=${cookie?.value}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as unknown };
  };
}
