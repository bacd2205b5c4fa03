/**
 * The lifecycle every browser test file (test/e2e/ui*.test.ts) shares, in one call at the
 * top of the file: `const suite = browserSuite({ name: "restore", adminPassword })`.
 *
 * Lifecycle:
 *   beforeAll  the compiled binary (hostBinary: built once per run when stale), a fresh
 *              temp dir borgctl-e2e-ui-<name>-XXXXXX (or `fixedDir`, emptied first),
 *              test-output/ui/, one Chromium for the whole file and, with `box: true`,
 *              a real box's HTTP API in this process (startHttpOnlyBox, no sshd).
 *   tests      start what they need on it: hubs (`startHub`, each a real `borgctl server`
 *              on a free port), signed-in browser contexts (`signIn`), real agents
 *              (`startAgent`: `agent register` then `agent run`, the compiled binary).
 *   afterAll   Chromium closed, every process a test started canceled and waited for,
 *              the box stopped, the dir removed. What a file starts itself (an HTTP
 *              receiver) it stops in its own afterAll.
 * Nothing starts before beforeAll, so a file's tests see the suite's fields only inside
 * tests (reading one earlier throws).
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { Job, JobAccepted, Machine } from "../../src/shared/protocol/api.ts";
import { hostBinary } from "./binary.ts";
import { startHttpOnlyBox } from "./box.ts";
import {
  apiAs,
  launchChromium,
  SHOTS,
  signIn,
  startCompiledHub,
  stopProcesses,
} from "./browser.ts";
import { waitFor } from "./fleet.ts";

export interface BrowserSuiteOptions {
  /** Names the temp dir: borgctl-e2e-ui-<name>-XXXXXX. */
  name: string;
  /** The hub's bootstrap admin password (BORGCTL_ADMIN_PASSWORD) and signIn's default. */
  adminPassword: string;
  /** A dir whose paths stay the same from run to run (emptied first, removed after). */
  fixedDir?: string;
  /** A real box (HTTP API only) for the file's tests: `suite.box`. */
  box?: boolean;
  /** beforeAll's limit: the first file of a run may build the binary. */
  setupTimeoutMs?: number;
}

export interface SuiteHubOptions {
  /** The hub's HOME; its data dir is `<dir>/hub`. Default: the suite's dir. */
  dir?: string;
  /** More `borgctl server` flags, e.g. `["--public-url", "https://hub.example.com"]`. */
  args?: string[];
  /** More environment for the hub process. */
  env?: Record<string, string>;
}

export interface SignedIn {
  context: BrowserContext;
  page: Page;
  /** The page's console errors and uncaught exceptions since the dashboard showed. */
  problems: string[];
  /** The API with this context's session cookie. */
  api: ReturnType<typeof apiAs>;
}

export interface BrowserSuite {
  readonly binary: string;
  readonly dir: string;
  readonly browser: Browser;
  /** The box of `box: true` (its URL, token, repo root and authorized_keys file). */
  readonly box: HttpOnlyBox;
  /** Stopped in afterAll; push what a test spawns itself. */
  readonly processes: SpawnedProcess[];
  /** Starts `borgctl server` on a free port; resolves to its URL once it listens. */
  startHub(options?: SuiteHubOptions): Promise<string>;
  /** A new browser context (1200×800 unless told), signed in on the dashboard. */
  signIn(
    url: string,
    options?: {
      viewport?: { width: number; height: number };
      username?: string;
      password?: string;
    },
  ): Promise<SignedIn>;
  /**
   * A real agent for `url`: `borgctl agent register --token …` (config and state under
   * `<at>/agent`, `<at>/agent-state`; `at` defaults to the suite's dir, also its HOME),
   * then `borgctl agent run` until afterAll. Resolves once registered.
   */
  startAgent(url: string, token: string, options?: { name?: string; at?: string }): Promise<void>;
}

export type HttpOnlyBox = Awaited<ReturnType<typeof startHttpOnlyBox>>;

export function browserSuite(options: BrowserSuiteOptions): BrowserSuite {
  let binary: string | undefined;
  let dir: string | undefined;
  let browser: Browser | undefined;
  let box: HttpOnlyBox | undefined;
  const processes: SpawnedProcess[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`browserSuite: ${what} is set up in beforeAll`);
    return value;
  };

  beforeAll(async () => {
    if (options.fixedDir) {
      await rm(options.fixedDir, { recursive: true, force: true });
      await mkdir(options.fixedDir, { recursive: true });
    }
    [binary, dir, browser, box] = await Promise.all([
      hostBinary(),
      options.fixedDir ?? mkdtemp(join(tmpdir(), `borgctl-e2e-ui-${options.name}-`)),
      launchChromium(),
      options.box ? startHttpOnlyBox() : undefined,
      mkdir(SHOTS, { recursive: true }),
    ]);
  }, options.setupTimeoutMs ?? 180_000);
  afterAll(async () => {
    await browser?.close();
    await stopProcesses(processes);
    await box?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const suite: BrowserSuite = {
    get binary() {
      return ready(binary, "the binary");
    },
    get dir() {
      return ready(dir, "the dir");
    },
    get browser() {
      return ready(browser, "the browser");
    },
    get box() {
      return ready(box, options.box ? "the box" : "a box (box: true)");
    },
    processes,
    startHub(hub = {}) {
      return startCompiledHub({
        binary: suite.binary,
        dir: hub.dir ?? suite.dir,
        adminPassword: options.adminPassword,
        processes,
        args: hub.args,
        env: hub.env,
      });
    },
    async signIn(url, how = {}) {
      const context = await suite.browser.newContext({
        viewport: how.viewport ?? { width: 1200, height: 800 },
      });
      const signed = await signIn(
        context,
        url,
        how.username ?? "admin",
        how.password ?? options.adminPassword,
      );
      return { context, ...signed, api: apiAs(url, context) };
    },
    async startAgent(url, token, agent = {}) {
      const at = agent.at ?? suite.dir;
      const config = join(at, "agent", "agent.toml");
      const env = { HOME: suite.dir, NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" };
      const registered = await runProcess({
        argv: [
          suite.binary,
          ...["agent", "register", "--server", url, "--token", token],
          ...["--config", config, "--state-dir", join(at, "agent-state")],
          ...(agent.name ? ["--name", agent.name] : []),
        ],
        env,
        captureStdout: true,
        stderrTailLines: 20,
      });
      if (registered.exitCode !== 0) {
        throw new Error(
          `agent register exited ${registered.exitCode}:\n${registered.stderrTail.join("\n")}`,
        );
      }
      processes.push(
        spawnProcess({ argv: [suite.binary, "agent", "run", "--config", config], env }),
      );
    },
  };
  return suite;
}

type Api = ReturnType<typeof apiAs>;

/** The job once it has ended (completed_at set, whatever its status), as the hub reports it. */
export function finishedJob(api: Api, jobId: number, timeoutMs = 60_000): Promise<Job> {
  return waitFor(
    `job ${jobId} to end`,
    async () => {
      const job = Job.parse((await api("GET", `/api/jobs/${jobId}`)).body);
      return job.completed_at ? job : undefined;
    },
    timeoutMs,
  );
}

/** POSTs a job action (e.g. `/api/repositories/1/init`) and resolves to the job once it ended. */
export async function runJob(api: Api, path: string, body: unknown = {}): Promise<Job> {
  const queued = await api("POST", path, body);
  if (queued.status !== 202)
    throw new Error(`${path}: ${queued.status} ${JSON.stringify(queued.body)}`);
  return finishedJob(api, JobAccepted.parse(queued.body).job_id);
}

/** The machine named `name` (or the only one) once the hub reports it online. */
export function onlineMachine(api: Api, name?: string, timeoutMs = 20_000): Promise<Machine> {
  return waitFor(
    `machine ${name ?? ""} to come online`,
    async () =>
      Machine.array()
        .parse((await api("GET", "/api/managed-machines")).body)
        .find((m) => (name === undefined || m.name === name) && m.status === "online"),
    timeoutMs,
  );
}
