/**
 * A repo's whole life through the box API with real borg over a real sshd:
 * create → borg init/create over ssh → facts and archives → check/prune/compact jobs →
 * job stream → sessions and break-lock → append-only → delete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnProcess } from "../../../src/shared/process/spawn.ts";
import type { Job, Repo } from "../../../src/shared/protocol/box.ts";
import { BOX_TOKEN, startTestBox, type TestBox } from "../../helpers/box.ts";
import type { TestKey } from "../../helpers/sshd.ts";

const PASSPHRASE = "correct horse battery staple";
let t: TestBox;
let key: TestKey;
let repoPath: string;

beforeAll(async () => {
  t = await startTestBox();
  key = await t.newKey("laptop");
  repoPath = join(t.root, "laptop");
});
afterAll(async () => {
  await t.stop();
});

async function waitForJob(id: string): Promise<Job> {
  for (;;) {
    const { body } = await t.api("GET", `/jobs/${id}`);
    const job = body as Job;
    if (job.status === "done" || job.status === "error") return job;
    await Bun.sleep(100);
  }
}

describe("box repo lifecycle (real borg, real sshd)", () => {
  test("health needs no token; everything else does", async () => {
    const health = await fetch(`${t.box.url}/api/v1/health`);
    expect(await health.json()).toEqual({ status: "ok" });
    const response = await fetch(`${t.box.url}/api/v1/repos`, {
      headers: { authorization: "Bearer wrong" },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: "missing or wrong bearer token",
      code: "unauthorized",
    });
  });

  test("create registers the key line and the directory", async () => {
    const { status, body } = await t.api("POST", "/repos", {
      name: "laptop",
      pubkey: key.publicLine,
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      name: "laptop",
      path: repoPath,
      size_bytes: 0,
      initialized: false,
      registered: true,
      append_only: false,
      last_write_at: null,
      ssh_url: t.sshd.url(repoPath),
    });
    const keys = await readFile(t.keysFile, "utf8");
    expect(keys.startsWith(t.handWritten)).toBe(true);
    const [type, base64] = key.publicLine.split(" ");
    expect(keys.slice(t.handWritten.length)).toBe(
      `command="borg serve --restrict-to-repository ${repoPath}",restrict ${type} ${base64} # borgbox:laptop\n`,
    );
  });

  test("the client can init and back up over ssh; the box sees it on disk", async () => {
    const url = t.sshd.url(repoPath);
    const init = await t.borg(key, ["init", "--encryption=repokey-blake2", url], {
      passphrase: PASSPHRASE,
    });
    expect(init.stderrTail.join("\n")).not.toContain("Error");
    expect(init.exitCode).toBe(0);
    const create = await t.borg(key, ["create", `${url}::first`, t.keysFile], {
      passphrase: PASSPHRASE,
    });
    expect(create.exitCode).toBe(0);

    const { body } = await t.api("GET", "/repos/laptop");
    const repo = body as Repo;
    expect(repo.initialized).toBe(true);
    expect(repo.size_bytes).toBeGreaterThan(0);
    expect(repo.last_write_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The repokey lives in the repo's config: it must never come back.
    const config = await readFile(join(repoPath, "config"), "utf8");
    const keyBlob = /^key = (.+)$/m.exec(config)?.[1] ?? "";
    expect(keyBlob.length).toBeGreaterThan(20);
    const listing = await t.api("GET", "/repos");
    expect(listing.text).not.toContain(keyBlob.slice(0, 40));
    expect((listing.body as Repo[]).map((r) => r.name)).toEqual(["laptop"]);
  });

  test("archives: listed with the passphrase header; a wrong one is a 502 that hides it", async () => {
    const ok = await t.api("GET", "/repos/laptop/archives", undefined, {
      "x-borg-passphrase": PASSPHRASE,
    });
    expect(ok.status).toBe(200);
    const archives = ok.body as { name: string; id: string; time: string }[];
    expect(archives.map((a) => a.name)).toEqual(["first"]);
    expect(archives[0]?.id).toMatch(/^[0-9a-f]{64}$/);

    const wrong = "not-the-passphrase-42";
    const bad = await t.api("GET", "/repos/laptop/archives", undefined, {
      "x-borg-passphrase": wrong,
    });
    expect(bad.status).toBe(502);
    expect((bad.body as { code: string }).code).toBe("borg_failed");
    expect(bad.text).not.toContain(wrong);
    expect(t.logLines.join("\n")).not.toContain(wrong);
    expect(t.logLines.join("\n")).not.toContain(PASSPHRASE);
  });

  test("check, prune and compact run as jobs to done", async () => {
    await t.borg(key, ["create", `${t.sshd.url(repoPath)}::second`, t.keysFile], {
      passphrase: PASSPHRASE,
    });
    const check = await t.api("POST", "/repos/laptop/check", { passphrase: PASSPHRASE });
    expect(check.status).toBe(202);
    const checkJob = await waitForJob((check.body as { job_id: string }).job_id);
    expect(checkJob).toMatchObject({ repo: "laptop", kind: "check", status: "done", exit_code: 0 });

    const dry = await t.api("POST", "/repos/laptop/prune", {
      keep_daily: 1,
      dry_run: true,
      passphrase: PASSPHRASE,
    });
    const dryJob = await waitForJob((dry.body as { job_id: string }).job_id);
    expect(dryJob).toMatchObject({ status: "done", dry_run: true });
    expect(dryJob.log_tail.join("\n")).toContain("first");

    const prune = await t.api("POST", "/repos/laptop/prune", {
      keep_daily: 1,
      passphrase: PASSPHRASE,
    });
    expect(await waitForJob((prune.body as { job_id: string }).job_id)).toMatchObject({
      status: "done",
    });
    const archives = await t.api("GET", "/repos/laptop/archives", undefined, {
      "x-borg-passphrase": PASSPHRASE,
    });
    expect((archives.body as { name: string }[]).map((a) => a.name)).toEqual(["second"]);

    const compact = await t.api("POST", "/repos/laptop/compact", {});
    const compactJob = await waitForJob((compact.body as { job_id: string }).job_id);
    expect(compactJob).toMatchObject({ kind: "compact", status: "done", exit_code: 0 });

    const jobs = (await t.api("GET", "/jobs")).body as Job[];
    expect(jobs.map((j) => j.kind)).toEqual(["compact", "prune", "prune", "check"]);
    expect(t.logLines.join("\n")).not.toContain(PASSPHRASE);
  });

  test("a check without passphrase checks the repository part only; a wrong one fails the job", async () => {
    const repoOnly = await t.api("POST", "/repos/laptop/check", {});
    expect(await waitForJob((repoOnly.body as { job_id: string }).job_id)).toMatchObject({
      status: "done",
    });
    const wrong = await t.api("POST", "/repos/laptop/check", {
      passphrase: "wrong-passphrase-xyz",
    });
    const job = await waitForJob((wrong.body as { job_id: string }).job_id);
    expect(job.status).toBe("error");
    expect(job.exit_code).toBeGreaterThan(1);
    expect(JSON.stringify(job)).not.toContain("wrong-passphrase-xyz");
  });

  test("the job stream (SSE) replays the log and ends with the final status", async () => {
    const check = await t.api("POST", "/repos/laptop/check", { passphrase: PASSPHRASE });
    const id = (check.body as { job_id: string }).job_id;
    const response = await fetch(`${t.box.url}/api/v1/jobs/${id}/stream`, {
      headers: { authorization: `Bearer ${BOX_TOKEN}` },
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("status");
    expect(events.at(-1)).toBe("end");
    const end = text.slice(text.lastIndexOf("event: end"));
    expect(end).toContain('"status":"done"');
  });

  test("a live client session is listed, and blocks break-lock and delete", async () => {
    // `borg with-lock` keeps a borg serve session (and the repo lock) open while it runs.
    const marker = join(t.dir, "locked");
    const holder = spawnProcess({
      argv: ["borg", "with-lock", t.sshd.url(repoPath), "sh", "-c", `touch ${marker}; sleep 30`],
      env: {
        BORG_RSH: t.sshd.borgRsh(key),
        BORG_PASSPHRASE: PASSPHRASE,
        BORG_BASE_DIR: join(t.dir, "client-borg"),
        BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
      },
      grace: { interruptMs: 2000, terminateMs: 1000 },
    });
    try {
      while (!existsSync(marker)) await Bun.sleep(50);
      const sessions = (await t.api("GET", "/sessions")).body as {
        repo: string;
        client_ip: string;
        pid: number;
      }[];
      const session = sessions.find((s) => s.repo === "laptop");
      expect(session?.client_ip).toBe("127.0.0.1");
      expect(session?.pid).toBeGreaterThan(0);
      const breakLock = await t.api("POST", "/repos/laptop/break-lock");
      expect(breakLock.status).toBe(409);
      expect((await t.api("DELETE", "/repos/laptop")).status).toBe(409);
    } finally {
      holder.cancel();
      await holder.done;
    }
    // Once the client is gone the lock can be broken.
    for (
      let i = 0;
      i < 50 && ((await t.api("GET", "/sessions")).body as unknown[]).length > 0;
      i++
    ) {
      await Bun.sleep(100);
    }
    expect((await t.api("POST", "/repos/laptop/break-lock")).status).toBe(204);
  });

  test("append-only can be switched on and off; the key stays the same", async () => {
    const on = await t.api("PATCH", "/repos/laptop", { append_only: true });
    expect(on.status).toBe(200);
    expect((on.body as Repo).append_only).toBe(true);
    const keys = await readFile(t.keysFile, "utf8");
    expect(keys).toContain(`--restrict-to-repository ${repoPath} --append-only",restrict`);
    expect(keys.startsWith(t.handWritten)).toBe(true);
    const off = await t.api("PATCH", "/repos/laptop", { append_only: false });
    expect((off.body as Repo).append_only).toBe(false);
    expect(await readFile(t.keysFile, "utf8")).not.toContain("--append-only");
  });

  test("info, system stats and metrics describe the box", async () => {
    const info = (await t.api("GET", "/info")).body as Record<string, unknown>;
    expect(info).toMatchObject({
      repo_root: t.root,
      borg_version: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(info.free_bytes as number).toBeGreaterThan(0);
    // The sshd's real host key, without its comment, for the hub to pin.
    const [type, base64] = t.sshd.hostKeyLine.split(" ");
    expect(info.ssh_host_keys).toEqual([`${type} ${base64}`]);
    const stats = (await t.api("GET", "/system/stats")).body as Record<string, unknown>;
    expect(stats).toMatchObject({ storage: { path: t.root } });
    expect(stats.load as number[]).toHaveLength(3);
    const metrics = await t.api("GET", "/metrics");
    expect(metrics.text).toContain("borgctl_box_repos 1");
    expect(metrics.text).toContain('borgctl_box_jobs{status="done"}');
  });

  test("import registers a key for an existing directory", async () => {
    const other = await t.newKey("imported");
    expect(
      (await t.api("POST", "/repos/import", { name: "elsewhere", pubkey: other.publicLine }))
        .status,
    ).toBe(404);
    await Bun.write(join(t.root, "elsewhere", "README"), "moved here by hand\n");
    const imported = await t.api("POST", "/repos/import", {
      name: "elsewhere",
      pubkey: other.publicLine,
    });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ name: "elsewhere", registered: true });
    // create refuses a non-empty directory: that is import's job.
    const create = await t.api("POST", "/repos", { name: "elsewhere", pubkey: other.publicLine });
    expect(create.status).toBe(409);
  });

  test("delete removes the key line and the directory, and nothing else", async () => {
    expect((await t.api("DELETE", "/repos/laptop")).status).toBe(204);
    expect(existsSync(repoPath)).toBe(false);
    const keys = await readFile(t.keysFile, "utf8");
    expect(keys.startsWith(t.handWritten)).toBe(true);
    expect(keys).not.toContain("borgbox:laptop");
    expect(keys).toContain("# borgbox:elsewhere");
    expect((await t.api("GET", "/repos/laptop")).status).toBe(404);
    expect((await t.api("DELETE", "/repos/laptop")).status).toBe(404);
  });
});
