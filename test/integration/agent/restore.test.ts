/**
 * Restore end to end with the real borg: an in-process hub on 127.0.0.1, a real agent,
 * a local repository of a known tree. Browse (the listing job, its chunked upload, the
 * cache answering levels and searches), restore a file and a folder (bytes compared),
 * overwrite refused with the existing file untouched, a dry run that writes nothing and
 * names the files, another machine refused, and a cancel that leaves no lock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, existsSync, openSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { ArchiveTree, Job, type Machine } from "../../../src/shared/protocol/api.ts";
import { enrollAgent, type TestAgentProcess, waitForJob } from "../../helpers/agent.ts";
import { createTestHub } from "../../helpers/hub.ts";

const PASSPHRASE = "restore-integration-passphrase";
const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let agent: TestAgentProcess;
let running: ReturnType<TestAgentProcess["start"]>;
let sources: string;
let repositoryId: number;
let archive: string;
/** The sources' path inside the archive (borg drops the leading "/"). */
let member: string;

const BIG = Buffer.alloc(300_000, 7);

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  agent = await enrollAgent(hub, server.url, admin);
  sources = join(agent.dir, "sources");
  await mkdir(join(sources, "docs", "deep"), { recursive: true });
  await writeFile(join(sources, "readme.txt"), "hello restore\n");
  await writeFile(join(sources, "docs", "report.pdf"), BIG);
  await writeFile(join(sources, "docs", "notes.txt"), "notes\n");
  await writeFile(join(sources, "docs", "deep", "a.pdf"), "pdf!");
  await symlink("readme.txt", join(sources, "link"));
  running = agent.start();
  const machines = (await hub.request("GET", "/api/managed-machines", { token: admin }))
    .body as Machine[];
  const created = await hub.request("POST", "/api/repositories", {
    token: admin,
    body: {
      name: "restore-me",
      agent_machine_id: machines[0]?.id,
      location: join(agent.dir, "repos", "restore-me"),
      passphrase: PASSPHRASE,
      source_paths: [sources],
    },
  });
  repositoryId = (created.body as { id: number }).id;
  expect((await runJob("POST", `/api/repositories/${repositoryId}/init`, {})).status).toBe(
    "completed",
  );
  const backup = await runJob("POST", `/api/repositories/${repositoryId}/backup`, {});
  expect(backup.status).toBe("completed");
  archive = backup.result?.archive_name as string;
  member = sources.replace(/^\/+/, "");
}, 60_000);
afterAll(async () => {
  await running?.stop();
  server.stop();
  hub.close();
  await rm(agent.dir, { recursive: true, force: true });
});

async function runJob(method: string, path: string, body: unknown) {
  const queued = await hub.request(method, path, { token: admin, body });
  expect(queued.status).toBe(202);
  return Job.parse(await waitForJob(hub, admin, (queued.body as { job_id: number }).job_id));
}

const treeUrl = (path: string, q?: string) =>
  `/api/repositories/${repositoryId}/archives/${encodeURIComponent(archive)}/tree?path=${encodeURIComponent(path)}${q ? `&q=${encodeURIComponent(q)}` : ""}`;

async function tree(path: string, q?: string) {
  const answer = await hub.request("GET", treeUrl(path, q), { token: admin });
  expect(answer.status).toBe(200);
  return ArchiveTree.parse(answer.body);
}

const restore = (body: Record<string, unknown>) =>
  runJob("POST", `/api/repositories/${repositoryId}/restore`, { archive, ...body });

describe("browse an archive from the hub", () => {
  test("the first request queues archive.browse; then levels come from the cache", async () => {
    const first = await hub.request("GET", treeUrl("/"), { token: admin });
    expect(first.status).toBe(202);
    const jobId = (first.body as { job_id: number }).job_id;
    // A second request while the listing runs follows the same job.
    const again = await hub.request("GET", treeUrl("/"), { token: admin });
    if (again.status === 202) expect((again.body as { job_id: number }).job_id).toBe(jobId);
    const job = Job.parse(await waitForJob(hub, admin, jobId));
    expect(job.status).toBe("completed");
    expect(job.type).toBe("archive.browse");
    expect(job.result?.entry_count).toBe(8); // sources, docs, deep, 4 files and a link
    // The agent's spool of the listing is gone once the job is over.
    const spools = (await readdir(tmpdir())).filter((n) => n.startsWith("borgctl-listing-"));
    expect(spools).toEqual([]);

    // The directories above the backed-up path are there, as borg restores them.
    const top = member.split("/")[0] as string;
    expect((await tree("/")).entries).toEqual([
      { name: top, type: "dir", size: 0, mtime: null, mode: null },
    ]);
    const level = await tree(`/${member}`);
    expect(level.path).toBe(`/${member}`);
    expect(level.truncated).toBe(false);
    // Folders first, then by name; sizes exact.
    expect(level.entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ["docs", "dir", 0],
      ["link", "link", "readme.txt".length],
      ["readme.txt", "file", "hello restore\n".length],
    ]);
    const readme = level.entries.find((e) => e.name === "readme.txt");
    expect(readme?.mode).toBe("-rw-r--r--");
    expect(Date.parse(readme?.mtime as string)).toBeCloseTo(
      statSync(join(sources, "readme.txt")).mtimeMs,
      -3,
    );
    expect((await tree(`/${member}/docs`)).entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ["deep", "dir", 0],
      ["notes.txt", "file", 6],
      ["report.pdf", "file", BIG.length],
    ]);
  });

  test("a path not in the archive is 404; a file is not a directory (400)", async () => {
    const missing = await hub.request("GET", treeUrl(`/${member}/nope`), { token: admin });
    expect(missing.status).toBe(404);
    const file = await hub.request("GET", treeUrl(`/${member}/readme.txt`), { token: admin });
    expect(file.status).toBe(400);
    const climbing = await hub.request("GET", treeUrl(`/${member}/../etc`), { token: admin });
    expect(climbing.status).toBe(400);
    expect((climbing.body as { error: string }).error).toMatch(/^path /);
  });

  test("?q= searches the cached listing by glob", async () => {
    const found = await tree("/", "*.PDF");
    expect(found.entries.map((e) => e.path).sort()).toEqual([
      `/${member}/docs/deep/a.pdf`,
      `/${member}/docs/report.pdf`,
    ]);
  });

  test("a viewer reads the cache but may not start a listing job", async () => {
    await hub.request("POST", "/api/users", {
      token: admin,
      body: { username: "viewer1", password: "viewer-password-1", role: "viewer" },
    });
    const viewer = await hub.login("viewer1", "viewer-password-1");
    expect((await hub.request("GET", treeUrl("/"), { token: viewer })).status).toBe(200);
    const uncached = await hub.request(
      "GET",
      `/api/repositories/${repositoryId}/archives/other-archive/tree`,
      { token: viewer },
    );
    expect(uncached.status).toBe(403);
    const restoring = await hub.request("POST", `/api/repositories/${repositoryId}/restore`, {
      token: viewer,
      body: { archive, paths: [], destination: "/tmp/x" },
    });
    expect(restoring.status).toBe(403);
  });
});

describe("restore onto the machine", () => {
  test("one file and one folder, bytes compared; the destination is created 0700", async () => {
    const destination = join(agent.dir, "restored", "one");
    const job = await restore({
      paths: [`/${member}/readme.txt`, `/${member}/docs`],
      destination,
    });
    expect(job.status).toBe("completed");
    expect(job.type).toBe("archive.extract");
    expect(job.result?.files).toBe(6); // readme, docs, deep, a.pdf, notes, report
    expect(job.result?.bytes).toBe(14 + BIG.length + 6 + 4);
    expect(job.progress.progress_percent).toBe(100);
    expect(statSync(destination).mode & 0o777).toBe(0o700);
    const back = join(destination, member);
    expect(await readFile(join(back, "readme.txt"), "utf8")).toBe("hello restore\n");
    expect(Buffer.compare(await readFile(join(back, "docs", "report.pdf")), BIG)).toBe(0);
    expect(await readFile(join(back, "docs", "deep", "a.pdf"), "utf8")).toBe("pdf!");
    expect(existsSync(join(back, "link"))).toBe(false);
  });

  test("without overwrite an existing file is never replaced: the job fails naming it", async () => {
    const destination = join(agent.dir, "restored", "conflict");
    const existing = join(destination, member, "docs", "notes.txt");
    await mkdir(join(destination, member, "docs"), { recursive: true });
    await writeFile(existing, "my newer notes\n");
    const job = await restore({ paths: [`/${member}/docs`], destination });
    expect(job.status).toBe("failed");
    expect(job.error_message).toContain(existing);
    expect(job.error_message).toMatch(/overwrite/);
    expect(await readFile(existing, "utf8")).toBe("my newer notes\n");
    expect(existsSync(join(destination, member, "docs", "report.pdf"))).toBe(false);

    const replaced = await restore({ paths: [`/${member}/docs`], destination, overwrite: true });
    expect(replaced.status).toBe("completed");
    expect(await readFile(existing, "utf8")).toBe("notes\n");
    // Counted from borg extract's own --list and progress (no listing pass first).
    expect(replaced.result?.files).toBe(5);
    expect(replaced.result?.bytes).toBe(BIG.length + 6 + 4);
  });

  test("a dry run writes nothing and names the files", async () => {
    const destination = join(agent.dir, "restored", "dry");
    const job = await restore({ paths: [`${member}/docs`], destination, dry_run: true });
    expect(job.status).toBe("completed");
    expect(existsSync(destination)).toBe(false);
    expect(job.result?.listed?.sort()).toEqual(
      [
        `${member}/docs`,
        `${member}/docs/deep`,
        `${member}/docs/deep/a.pdf`,
        `${member}/docs/notes.txt`,
        `${member}/docs/report.pdf`,
      ].sort(),
    );
    expect(job.result?.files).toBe(5);
  });

  test("bad input is a 400 naming the field, and queues nothing", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ archive, paths: [], destination: "relative/dir" }, /^destination /],
      [{ archive, paths: ["a/../../etc"], destination: "/tmp/x" }, /^paths\[0\] /],
      [{ archive: "-x", paths: [], destination: "/tmp/x" }, /^archive /],
      [{ archive, paths: [], destination: "/tmp/x", target_machine_id: 999 }, /storage box/],
      [{ archive, paths: [], destination: "/tmp/x", extra: 1 }, /extra|unrecognized/i],
    ];
    for (const [body, message] of cases) {
      const answer = await hub.request("POST", `/api/repositories/${repositoryId}/restore`, {
        token: admin,
        body,
      });
      expect(answer.status).toBe(400);
      expect((answer.body as { error: string }).error).toMatch(message);
    }
  });

  test("a cancel while the restore's borg holds the repository leaves no lock", async () => {
    // Borg is held by the test, not by being slow (as in agent.test.ts): borg reads
    // `location` in its security dir with a blocking open() while it has the repository
    // open; a FIFO there holds it until the test writes what the file held.
    const repoDir = join(agent.dir, "repos", "restore-me");
    const repoKey = /^id = ([0-9a-f]+)$/m.exec(await readFile(join(repoDir, "config"), "utf8"));
    const security = join(agent.agent.paths.borgBaseDir, ".config", "borg", "security");
    const location = join(security, repoKey?.[1] as string, "location");
    const known = await readFile(location, "utf8");
    await rm(location);
    expect((await runProcess({ argv: ["mkfifo", "-m", "0600", location] })).exitCode).toBe(0);
    const putBack = async () => {
      await writeFile(`${location}.tmp`, known, { mode: 0o600 });
      await rename(`${location}.tmp`, location);
    };
    // Not empty, so the agent lists the archive before extracting and borg is held there:
    // borg answers SIGINT by finishing the current file, and this archive's are tiny.
    const destination = join(agent.dir, "restored", "canceled");
    await mkdir(destination, { recursive: true });
    await writeFile(join(destination, "already-here"), "");
    const queued = await hub.request("POST", `/api/repositories/${repositoryId}/restore`, {
      token: admin,
      body: { archive, paths: [], destination },
    });
    const jobId = (queued.body as { job_id: number }).job_id;
    let writer: number | undefined;
    try {
      while (writer === undefined) {
        try {
          writer = openSync(location, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
          await Bun.sleep(50);
        }
      }
      await waitForJob(hub, admin, jobId, (job) => job.status === "running");
      expect(
        (await hub.request("POST", `/api/jobs/${jobId}/cancel`, { token: admin })).status,
      ).toBe(202);
      const canceling = new RegExp(`canceling job job=${jobId}\\b`);
      while (!agent.logLines.some((line) => canceling.test(line))) await Bun.sleep(50);
      await putBack();
    } finally {
      if (statSync(location).isFIFO()) await putBack();
      if (writer !== undefined) closeSync(writer);
    }
    const canceled = await waitForJob(hub, admin, jobId);
    expect(canceled.status).toBe("canceled");
    expect(existsSync(join(repoDir, "lock.exclusive"))).toBe(false);
    expect(existsSync(join(repoDir, "lock.roster"))).toBe(false);
    expect(existsSync(join(destination, member))).toBe(false);
    // The repository still works.
    const after = await restore({ paths: [`/${member}/readme.txt`], destination });
    expect(after.status).toBe("completed");
  });
});

describe("download one file through the hub", () => {
  /**
   * Ten and a bit chunks of the agent's uploads (MAX_DOWNLOAD_CHUNK_BYTES is 4 MiB), far
   * more than the sockets between agent, hub and client can hold: each MiB is random and
   * numbered, so bytes out of order or lost show.
   */
  const LARGE = new Uint8Array(40 * 1024 * 1024 + 17);
  const block = crypto.getRandomValues(new Uint8Array(65_536));
  for (let at = 0; at < LARGE.length; at += block.length) {
    LARGE.set(block.subarray(0, Math.min(block.length, LARGE.length - at)), at);
    new DataView(LARGE.buffer).setUint32(at, at / block.length);
  }
  let second: string;

  const downloadUrl = (name: string, path: string) =>
    `${server.url}/api/repositories/${repositoryId}/archives/${encodeURIComponent(name)}/download?path=${encodeURIComponent(path)}`;
  const download = (name: string, path: string, headers: Record<string, string> = {}) =>
    fetch(downloadUrl(name, path), { headers: { authorization: `Bearer ${admin}`, ...headers } });

  beforeAll(async () => {
    // A second archive with a file larger than one chunk, listed on the hub.
    await writeFile(join(sources, "docs", "große datei.bin"), LARGE);
    const backup = await runJob("POST", `/api/repositories/${repositoryId}/backup`, {});
    second = backup.result?.archive_name as string;
    const first = await hub.request(
      "GET",
      `/api/repositories/${repositoryId}/archives/${encodeURIComponent(second)}/tree`,
      { token: admin },
    );
    expect(first.status).toBe(202);
    await waitForJob(hub, admin, (first.body as { job_id: number }).job_id);
  }, 60_000);

  test("a small file: its bytes, length and name; the job counts what it sent", async () => {
    const answer = await download(archive, `/${member}/readme.txt`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-disposition")).toBe("attachment; filename=readme.txt");
    expect(answer.headers.get("content-type")).toBe("application/octet-stream");
    expect(await answer.text()).toBe("hello restore\n");
    const job = Job.parse(
      await waitForJob(hub, admin, Number(answer.headers.get("x-borgctl-job-id"))),
    );
    expect(job.type).toBe("archive.download");
    expect(job.status).toBe("completed");
    expect(job.result?.bytes).toBe("hello restore\n".length);
  });

  test("a file of several chunks arrives whole and in order; a UTF-8 name is kept", async () => {
    const answer = await download(second, `/${member}/docs/große datei.bin`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-disposition")).toBe(
      `attachment; filename="gro?e datei.bin"; filename*=UTF-8''gro%C3%9Fe%20datei.bin`,
    );
    const body = new Uint8Array(await answer.arrayBuffer());
    expect(body.length).toBe(LARGE.length);
    expect(Buffer.compare(body, LARGE)).toBe(0);
    const job = Job.parse(
      await waitForJob(hub, admin, Number(answer.headers.get("x-borgctl-job-id"))),
    );
    expect(job.status).toBe("completed");
    expect(job.result?.bytes).toBe(LARGE.length);
    expect(hub.deps.downloads.size).toBe(0);
  });

  test("a browser that stops reading holds the agent back; leaving cancels the job", async () => {
    // A raw client, so nothing reads ahead: it takes the response head and stops reading.
    const url = new URL(downloadUrl(second, `/${member}/docs/große datei.bin`));
    const socket = connect(Number(url.port), "127.0.0.1");
    let head = "";
    const gotHead = new Promise<void>((resolve) => {
      socket.on("data", (data: Buffer) => {
        head += data.toString("latin1");
        if (head.includes("\r\n\r\n")) {
          socket.pause();
          resolve();
        }
      });
    });
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${admin}\r\n\r\n`,
    );
    await gotHead;
    expect(head).toStartWith("HTTP/1.1 200");
    const jobId = Number(/x-borgctl-job-id: (\d+)/i.exec(head)?.[1]);
    // Let the agent run into the full pipe; then it has sent only part of the file.
    await Bun.sleep(1500);
    const relay = hub.deps.downloads.get(jobId);
    expect(relay?.bytesReceived).toBeGreaterThan(0);
    expect(relay?.bytesReceived).toBeLessThan(LARGE.length);
    socket.destroy();
    const ended = Job.parse(await waitForJob(hub, admin, jobId));
    expect(ended.status).toBe("canceled");
    expect(hub.deps.downloads.size).toBe(0);
    const repoDir = join(agent.dir, "repos", "restore-me");
    expect(existsSync(join(repoDir, "lock.exclusive"))).toBe(false);
    expect(existsSync(join(repoDir, "lock.roster"))).toBe(false);
  });

  test("what can't be downloaded is refused before any job, with the reason", async () => {
    const before = (await hub.request("GET", "/api/jobs?limit=1", { token: admin })).body as Job[];
    const refusals: [Promise<Response>, number, RegExp][] = [
      [download(archive, `/${member}/docs`), 400, /is a dir; only a file/],
      [download(archive, `/${member}/nope.txt`), 404, /no "\//],
      [download(archive, `/${member}/../etc/passwd`), 400, /^path /],
      [download("never-listed", `/${member}/readme.txt`), 409, /not listed on the hub yet/],
      [
        download(archive, `/${member}/readme.txt`, { "sec-fetch-site": "cross-site" }),
        403,
        /hub's own pages/,
      ],
    ];
    for (const [answer, status, message] of refusals) {
      const response = await answer;
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    hub.deps.settings.downloadMaxBytes = 100;
    try {
      const tooLarge = await download(archive, `/${member}/docs/report.pdf`);
      expect(tooLarge.status).toBe(413);
      expect(((await tooLarge.json()) as { error: string }).error).toMatch(/download_max_bytes/);
    } finally {
      hub.deps.settings.downloadMaxBytes = 1024 * 1024 * 1024;
    }
    const viewer = await hub.login("viewer1", "viewer-password-1");
    const asViewer = await fetch(downloadUrl(archive, `/${member}/readme.txt`), {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(asViewer.status).toBe(403);
    const after = (await hub.request("GET", "/api/jobs?limit=1", { token: admin })).body as Job[];
    expect(after[0]?.id).toBe(before[0]?.id);
  });
});
