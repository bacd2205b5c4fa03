/**
 * The box with many repos: `GET /api/v1/repos` latency with 2,000 repositories (goal:
 * under 100 ms median) and the box's idle memory, against a baseline in the same run —
 * a bare Bun.serve answering the same JSON body from memory. Runs the compiled binary
 * as its own process on 127.0.0.1. Not a test: prints a table.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderKeyLine } from "../src/box/authorized-keys.ts";
import { spawnProcess } from "../src/shared/process/spawn.ts";
import { parseSshPublicKey } from "../src/shared/ssh-key.ts";
import { hostBinary } from "../test/helpers/binary.ts";
import { recordResult } from "./results.ts";
import { printTable, summarize } from "./stats.ts";

const REPOS = Number(process.env.BENCH_REPOS ?? 2000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const TOKEN = "bench-token-0123456789abcdef";
const KEY = (
  await readFile(join(import.meta.dir, "../test/fixtures/ssh-keys/ed25519.pub"), "utf8")
).trim();

async function makeRepos(root: string, keysFile: string) {
  const parsed = parseSshPublicKey(KEY);
  if (!parsed.ok) throw new Error(parsed.reason);
  const lines: string[] = [];
  for (let i = 0; i < REPOS; i++) {
    const name = `repo-${String(i).padStart(4, "0")}`;
    const dir = join(root, name);
    // What borg 1.x leaves on disk after a first backup, in miniature.
    await mkdir(join(dir, "data", "0"), { recursive: true });
    await writeFile(join(dir, "config"), "[repository]\nversion = 1\nsegments_per_dir = 1000\n");
    await writeFile(join(dir, "integrity.3"), "{}");
    await writeFile(join(dir, "hints.3"), "x");
    await writeFile(join(dir, "data", "0", "3"), Buffer.alloc(4096));
    lines.push(renderKeyLine({ repoPath: dir, name, key: parsed.key, appendOnly: false }));
  }
  await writeFile(keysFile, `${lines.join("\n")}\n`, { mode: 0o600 });
}

async function timeRequests(url: string, headers: Record<string, string>) {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    const body = await response.arrayBuffer();
    samples.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    bytes = body.byteLength;
  }
  return { ...summarize(samples), bytes };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

const dir = await mkdtemp(join(tmpdir(), "borgctl-bench-box-"));
const root = join(dir, "repos");
const keysFile = join(dir, "authorized_keys");
let box: ReturnType<typeof spawnProcess> | undefined;
try {
  const binary = await hostBinary();
  const created = performance.now();
  await makeRepos(root, keysFile);
  const setupMs = performance.now() - created;

  const listening = Promise.withResolvers<string>();
  box = spawnProcess({
    argv: [binary, "box", "--addr", "127.0.0.1:0", "--repo-root", root, "--auth-keys", keysFile],
    env: { BORGBOX_TOKEN: TOKEN, NO_COLOR: "1" },
    onStderrLine: (line) => {
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) listening.resolve(url);
    },
  });
  const base = await listening.promise;
  const headers = { authorization: `Bearer ${TOKEN}` };
  await Bun.sleep(2000);
  const idleRss = await rssKiB(box.pid);
  const first = performance.now();
  const warm = await fetch(`${base}/repos`, { headers });
  const firstMs = performance.now() - first;
  const body = await warm.text();
  const count = (JSON.parse(body) as unknown[]).length;
  const boxRun = await timeRequests(`${base}/repos`, headers);
  const busyRss = await rssKiB(box.pid);

  const bare = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
  });
  const bareRun = await timeRequests(`http://127.0.0.1:${bare.port}/`, {});
  bare.stop(true);

  printTable(
    `box with ${count} repos (made in ${(setupMs / 1000).toFixed(1)} s); ${REQUESTS} sequential requests each (ms)`,
    ["endpoint", "n", "median", "p95", "max", "body bytes"],
    [
      [
        "bare Bun.serve, same body (baseline)",
        bareRun.n,
        bareRun.median,
        bareRun.p95,
        bareRun.max,
        bareRun.bytes,
      ],
      ["box GET /api/v1/repos", boxRun.n, boxRun.median, boxRun.p95, boxRun.max, boxRun.bytes],
    ],
  );
  recordResult({
    measure: "box: GET /api/v1/repos",
    setup: `${count} repos, ${REQUESTS} sequential requests`,
    value: `median ${boxRun.median.toFixed(2)} ms, p95 ${boxRun.p95.toFixed(2)} ms`,
    baseline: `bare Bun.serve, same body: median ${bareRun.median.toFixed(2)} ms`,
    ratio: `${(boxRun.median / bareRun.median).toFixed(2)}×`,
    goal: "",
  });
  recordResult({
    measure: "box: RSS",
    setup: `after ${REQUESTS} listings`,
    value: `${(busyRss / 1024).toFixed(1)} MiB (idle ${(idleRss / 1024).toFixed(1)} MiB)`,
    baseline: "",
    ratio: "",
    goal: "",
  });
  printTable(
    "box process",
    ["measure", "value"],
    [
      ["first GET /repos (cold cache, ms)", firstMs],
      ["idle RSS after start (MiB)", idleRss / 1024],
      [`RSS after ${REQUESTS} listings (MiB)`, busyRss / 1024],
    ],
  );
} finally {
  box?.cancel();
  await box?.done;
  await rm(dir, { recursive: true, force: true });
}
