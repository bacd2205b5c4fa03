import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  borgServeIndex,
  clientIpFromEnviron,
  listBorgSessions,
  parseProcStat,
  parseProcStatus,
  repoHasLiveSession,
  restrictedPath,
} from "../../../src/box/sessions.ts";
import { spawnProcess } from "../../../src/shared/process/spawn.ts";

const ROOT = "/srv/borg/repos";
const UID = 1234;
const BTIME = 1_700_000_000; // 2023-11-14T22:13:20Z
const UPTIME = 1000; // seconds since boot

interface FakeProcess {
  pid: number;
  argv: string[];
  uid?: number;
  env?: Record<string, string> | null; // null: environ unreadable (missing file)
  utime?: number;
  stime?: number;
  starttime?: number; // ticks since boot
  rssKb?: number;
  comm?: string;
}

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "borgctl-sessions-"));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A /proc look-alike: /stat (btime), /uptime and one dir per process. */
async function fakeProc(processes: FakeProcess[]): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmp, "proc-"));
  await fs.writeFile(
    path.join(dir, "stat"),
    `cpu  1 2 3 4 5 6 7 0 0 0\nintr 0\nctxt 1\nbtime ${BTIME}\nprocesses 10\n`,
  );
  await fs.writeFile(path.join(dir, "uptime"), `${UPTIME}.00 3000.00\n`);
  await fs.mkdir(path.join(dir, "self"));
  for (const p of processes) {
    const pdir = path.join(dir, String(p.pid));
    await fs.mkdir(pdir);
    await fs.writeFile(path.join(pdir, "cmdline"), `${p.argv.join("\0")}\0`);
    if (p.env !== null) {
      const env = p.env ?? {};
      await fs.writeFile(
        path.join(pdir, "environ"),
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}\0`)
          .join(""),
      );
    }
    const uid = p.uid ?? UID;
    await fs.writeFile(
      path.join(pdir, "status"),
      `Name:\tborg\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t${p.pid}\n` +
        `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t100\t100\t100\t100\n` +
        `VmPeak:\t  99999 kB\nVmRSS:\t   ${p.rssKb ?? 2048} kB\nThreads:\t1\n`,
    );
    // Fields 3..52 after "(comm)"; utime=14, stime=15, starttime=22.
    const fields = Array.from({ length: 50 }, () => "0");
    fields[0] = "S";
    fields[14 - 3] = String(p.utime ?? 0);
    fields[15 - 3] = String(p.stime ?? 0);
    fields[22 - 3] = String(p.starttime ?? 0);
    await fs.writeFile(
      path.join(pdir, "stat"),
      `${p.pid} (${p.comm ?? "borg"}) ${fields.join(" ")}\n`,
    );
  }
  return dir;
}

const serveArgv = (repoPath: string) => [
  "/usr/bin/python3",
  "/usr/bin/borg",
  "serve",
  "--restrict-to-repository",
  repoPath,
];

describe("argv recognition", () => {
  test.each([
    [["borg", "serve"], 0],
    [["/usr/bin/borg", "serve", "--restrict-to-repository", "/r"], 0],
    [["/opt/borg.exe", "serve"], 0],
    [["borgfs", "serve"], 0],
    [["/usr/bin/borg2", "serve"], 0],
    [["/usr/bin/borg", "--umask", "077", "serve"], 0],
    [["/usr/bin/python3", "/usr/bin/borg", "serve"], 1],
    [["/bin/sh", "/tmp/x/borg", "serve"], 1],
    [["python3", "-m", "borg", "serve"], 2],
    [["python3.11", "-m", "borg.archiver", "serve"], 2],
  ])("%p is borg serve (borg at %p)", (argv, index) => {
    expect(borgServeIndex(argv)).toBe(index);
  });

  test.each([
    [["borg", "create", "r::a", "/home"]],
    [["borg"]],
    [["serve", "borg"]],
    [["/usr/bin/python3", "/usr/bin/notborg", "serve"]],
    [["/usr/bin/sshd", "-D"]],
    [["sh", "-c", "borg serve --restrict-to-repository /r"]],
    [["/usr/bin/python3", "-x", "/usr/bin/borg", "serve"]],
    [[]],
  ])("%p is not borg serve", (argv) => {
    expect(borgServeIndex(argv)).toBe(-1);
  });

  test("restricted path in both option forms", () => {
    expect(restrictedPath(["borg", "serve", "--restrict-to-repository", "/a/b"])).toBe("/a/b");
    expect(restrictedPath(["borg", "serve", "--restrict-to-repository=/a/c"])).toBe("/a/c");
    expect(restrictedPath(["borg", "serve", "--restrict-to-path", "/a"])).toBe("/a");
    expect(restrictedPath(["borg", "serve"])).toBeNull();
  });
});

describe("field parsers", () => {
  test("SSH_CONNECTION gives the client ip", () => {
    const environ = "HOME=/x\0SSH_CONNECTION=2001:db8::5 51234 10.0.0.1 22\0SSH_CLIENT=y\0";
    expect(clientIpFromEnviron(environ)).toBe("2001:db8::5");
    expect(clientIpFromEnviron("HOME=/x\0XSSH_CONNECTION=1.2.3.4 1 2 3\0")).toBe("");
    expect(clientIpFromEnviron("")).toBe("");
  });

  test("stat with spaces and parentheses in comm", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    const parsed = parseProcStat(`77 (we ird) (name) ${fields.join(" ")}`);
    expect(parsed).toEqual({ utime: 14, stime: 15, starttime: 22 });
    expect(parseProcStat("garbage")).toBeNull();
  });

  test("status: real uid and VmRSS in bytes", () => {
    const text = "Name:\tx\nUid:\t1000\t0\t0\t0\nVmRSS:\t  1500 kB\n";
    expect(parseProcStatus(text)).toEqual({ uid: 1000, rssBytes: 1500 * 1024 });
  });
});

describe("listBorgSessions on a fake /proc", () => {
  test("reads every field of a session", async () => {
    const procDir = await fakeProc([
      {
        pid: 4242,
        argv: serveArgv(`${ROOT}/mac`),
        env: { HOME: "/home/borg", SSH_CONNECTION: "203.0.113.9 50000 192.0.2.1 22" },
        starttime: 50_000, // 500 s after boot
        utime: 3_000,
        stime: 1_500, // 45 s of CPU over 500 s elapsed = 9 %
        rssKb: 30_000,
      },
    ]);
    const sessions = await listBorgSessions({ root: ROOT, procDir, uid: UID });
    expect(sessions).toEqual([
      {
        pid: 4242,
        repo: "mac",
        client_ip: "203.0.113.9",
        started_at: new Date((BTIME + 500) * 1000).toISOString().replace(".000Z", "Z"),
        cpu_percent: 9,
        rss_bytes: 30_000 * 1024,
      },
    ]);
  });

  test("cpu percent is rounded to one decimal", async () => {
    const procDir = await fakeProc([
      // 1 s of CPU over 300 s elapsed = 0.333… %
      { pid: 10, argv: ["borg", "serve"], starttime: 70_000, utime: 100, stime: 0 },
    ]);
    const [session] = await listBorgSessions({ root: ROOT, procDir, uid: UID });
    expect(session?.cpu_percent).toBe(0.3);
  });

  test("filters by uid, by borg, by serve; skips vanished and non-pid entries", async () => {
    const procDir = await fakeProc([
      { pid: 1, argv: serveArgv(`${ROOT}/ok`) },
      { pid: 2, argv: serveArgv(`${ROOT}/other-user`), uid: UID + 1 },
      { pid: 3, argv: ["/usr/sbin/sshd", "-D"] },
      { pid: 4, argv: ["/usr/bin/borg", "create", "r::a", "/home"] },
      { pid: 5, argv: ["/usr/bin/borg", "serve", `--restrict-to-repository=${ROOT}/two`] },
    ]);
    // A pid whose files are gone by the time we read them.
    await fs.mkdir(path.join(procDir, "6"));
    // A pid that exited between cmdline and status.
    await fs.mkdir(path.join(procDir, "7"));
    await fs.writeFile(path.join(procDir, "7", "cmdline"), "borg\0serve\0");

    const sessions = await listBorgSessions({ root: ROOT, procDir, uid: UID });
    expect(sessions.map((s) => [s.pid, s.repo])).toEqual([
      [1, "ok"],
      [5, "two"],
    ]);
  });

  test("repo is the path when it is not directly under the root", async () => {
    const procDir = await fakeProc([
      { pid: 1, argv: serveArgv("/elsewhere/repo") },
      { pid: 2, argv: serveArgv(`${ROOT}/a/deeper`) },
      { pid: 3, argv: serveArgv(`${ROOT}/trailing/`) },
      { pid: 4, argv: ["borg", "serve"] },
    ]);
    const sessions = await listBorgSessions({ root: `${ROOT}/`, procDir, uid: UID });
    expect(sessions.map((s) => s.repo)).toEqual([
      "/elsewhere/repo",
      `${ROOT}/a/deeper`,
      "trailing",
      "",
    ]);
  });

  test("an unreadable environ gives an empty client ip", async () => {
    const procDir = await fakeProc([{ pid: 9, argv: serveArgv(`${ROOT}/x`), env: null }]);
    const sessions = await listBorgSessions({ root: ROOT, procDir, uid: UID });
    expect(sessions.map((s) => s.client_ip)).toEqual([""]);
  });

  test("no proc dir (not Linux) gives no sessions", async () => {
    expect(await listBorgSessions({ root: ROOT, procDir: path.join(tmp, "nope") })).toEqual([]);
  });

  test("repoHasLiveSession matches the repo name exactly", async () => {
    const procDir = await fakeProc([{ pid: 1, argv: serveArgv(`${ROOT}/mac`) }]);
    const opts = { root: ROOT, procDir, uid: UID };
    expect(await repoHasLiveSession(opts, "mac")).toBe(true);
    expect(await repoHasLiveSession(opts, "ma")).toBe(false);
    expect(await repoHasLiveSession(opts, "mac2")).toBe(false);
  });
});

describe("listBorgSessions on the real /proc", () => {
  test("finds a live process that looks like borg serve", async () => {
    const binDir = await fs.mkdtemp(path.join(tmp, "bin-"));
    const fakeBorg = path.join(binDir, "borg");
    // Two commands, so the shell cannot exec sleep in its place: the shell process keeps
    // the cmdline `/bin/sh <binDir>/borg serve --restrict-to-repository …`.
    await fs.writeFile(fakeBorg, "#!/bin/sh\nsleep 30\nexit 0\n", { mode: 0o755 });
    const root = path.join(tmp, "real-root");
    const child = spawnProcess({
      argv: [fakeBorg, "serve", "--restrict-to-repository", path.join(root, "r1")],
      env: { SSH_CONNECTION: "203.0.113.7 5555 127.0.0.1 22" },
      grace: { interruptMs: 100, terminateMs: 100 },
    });
    try {
      let sessions: Awaited<ReturnType<typeof listBorgSessions>> = [];
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        sessions = await listBorgSessions({ root });
        if (sessions.some((s) => s.pid === child.pid)) break;
        await Bun.sleep(20);
      }
      const mine = sessions.find((s) => s.pid === child.pid);
      expect(mine).toBeDefined();
      expect(mine?.repo).toBe("r1");
      expect(mine?.client_ip).toBe("203.0.113.7");
      expect(mine?.rss_bytes).toBeGreaterThan(0);
      expect(mine?.cpu_percent).toBeGreaterThanOrEqual(0);
      const startedMs = Date.parse(mine?.started_at ?? "");
      // Boot time plus ticks is second-granular; allow generous slack either way.
      expect(Math.abs(startedMs - Date.now())).toBeLessThan(60_000);
      expect(await repoHasLiveSession({ root }, "r1")).toBe(true);
      // Another uid sees nothing of it.
      const others = await listBorgSessions({ root, uid: (process.getuid?.() ?? 0) + 4242 });
      expect(others.some((s) => s.pid === child.pid)).toBe(false);
    } finally {
      child.cancel();
      await child.done;
    }
    expect(await repoHasLiveSession({ root }, "r1")).toBe(false);
  });
});
