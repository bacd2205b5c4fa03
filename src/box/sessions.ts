/**
 * Live `borg serve` sessions of the box's user, read from /proc (Linux only).
 *
 * sshd runs each client's forced command `borg serve --restrict-to-repository ROOT/NAME`
 * as the box user, so those processes are the box's view of who is connected: the
 * repo comes from the argv, the client from SSH_CONNECTION in the process environment
 * (readable by the same user), times and memory from stat/status.
 *
 * Clock ticks: /proc times are in USER_HZ. Asking for it (`getconf CLK_TCK`) means
 * spawning a process per call; USER_HZ is 100 on every Linux ABI borgctl targets
 * (x86-64, arm64), so 100 is assumed.
 *
 * A process can exit at any moment between two reads: such a pid is skipped silently.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { formatTimestamp } from "./repos.ts";

export interface BorgSession {
  pid: number;
  /** The repo name when the restricted path is a repo under the root, else that path. */
  repo: string;
  /** First field of SSH_CONNECTION, "" when the environment is unreadable. */
  client_ip: string;
  started_at: string;
  cpu_percent: number;
  rss_bytes: number;
}

export interface BorgSessionOptions {
  root: string;
  /** Defaults to /proc; tests pass a fake tree. */
  procDir?: string;
  /** Only processes whose real uid is this; defaults to process.getuid(). */
  uid?: number;
}

const CLK_TCK = 100;
const BORG_EXECUTABLES = new Set(["borg", "borg.exe", "borgfs", "borg2"]);
const RESTRICT_OPTIONS = ["--restrict-to-repository", "--restrict-to-path"];

/** Host-wide numbers every session's times are computed against. */
interface ProcClock {
  bootTimeSec: number;
  uptimeSec: number;
}

/**
 * The argv index of the borg executable when argv is a borg serve command, else -1.
 * Accepts borg as argv[0], or as argv[1] behind an interpreter (`python3 /usr/bin/borg`,
 * `/bin/sh ./borg`), or `python3 -m borg`; "serve" must come after it.
 */
export function borgServeIndex(argv: readonly string[]): number {
  let borgAt = -1;
  for (const i of [0, 1]) {
    const arg = argv[i];
    if (arg !== undefined && BORG_EXECUTABLES.has(path.basename(arg))) {
      borgAt = i;
      break;
    }
  }
  if (borgAt === -1 && /^python/.test(path.basename(argv[0] ?? "")) && argv[1] === "-m") {
    if (argv[2] === "borg" || argv[2] === "borg.archiver") borgAt = 2;
  }
  if (borgAt === -1) return -1;
  return argv.indexOf("serve", borgAt + 1) === -1 ? -1 : borgAt;
}

/** The path given to --restrict-to-repository (or --restrict-to-path), in either form. */
export function restrictedPath(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    for (const option of RESTRICT_OPTIONS) {
      if (arg === option) return argv[i + 1] ?? null;
      if (arg.startsWith(`${option}=`)) return arg.slice(option.length + 1);
    }
  }
  return null;
}

/** A repo name when `restricted` is a direct child of root, else the path as given. */
function repoLabel(root: string, restricted: string | null): string {
  if (restricted === null) return "";
  const resolved = path.resolve(restricted);
  if (path.dirname(resolved) === path.resolve(root)) return path.basename(resolved);
  return restricted;
}

/** First field of SSH_CONNECTION ("client_ip client_port server_ip server_port"). */
export function clientIpFromEnviron(environ: string): string {
  for (const pair of environ.split("\0")) {
    if (pair.startsWith("SSH_CONNECTION=")) {
      return pair.slice("SSH_CONNECTION=".length).trim().split(/\s+/)[0] ?? "";
    }
  }
  return "";
}

/** Ticks fields of /proc/PID/stat; comm (field 2) may contain spaces and parentheses. */
export function parseProcStat(
  text: string,
): { utime: number; stime: number; starttime: number } | null {
  const close = text.lastIndexOf(")");
  if (close === -1) return null;
  // After comm, index 0 is field 3 (state): field N is at index N - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const starttime = Number(fields[22 - 3]);
  if (![utime, stime, starttime].every(Number.isFinite)) return null;
  return { utime, stime, starttime };
}

/** Real uid and VmRSS (bytes) from /proc/PID/status. */
export function parseProcStatus(text: string): { uid: number | null; rssBytes: number } {
  let uid: number | null = null;
  let rssBytes = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("Uid:")) {
      const real = Number(line.slice(4).trim().split(/\s+/)[0]);
      uid = Number.isInteger(real) ? real : null;
    } else if (line.startsWith("VmRSS:")) {
      const kb = Number(line.slice(6).trim().split(/\s+/)[0]);
      if (Number.isFinite(kb)) rssBytes = kb * 1024;
    }
  }
  return { uid, rssBytes };
}

async function readProcClock(procDir: string): Promise<ProcClock | null> {
  try {
    const [stat, uptime] = await Promise.all([
      fs.readFile(path.join(procDir, "stat"), "utf8"),
      fs.readFile(path.join(procDir, "uptime"), "utf8"),
    ]);
    const btime = /^btime\s+(\d+)$/m.exec(stat)?.[1];
    const uptimeSec = Number(uptime.trim().split(/\s+/)[0]);
    if (btime === undefined || !Number.isFinite(uptimeSec)) return null;
    return { bootTimeSec: Number(btime), uptimeSec };
  } catch {
    return null;
  }
}

async function readSession(
  procDir: string,
  pid: number,
  opts: { root: string; uid: number; clock: ProcClock },
): Promise<BorgSession | null> {
  const dir = path.join(procDir, String(pid));
  try {
    // cmdline first: it rules out almost every process with one read.
    const argv = (await fs.readFile(path.join(dir, "cmdline"), "utf8"))
      .split("\0")
      .filter((arg, i, all) => arg !== "" || i < all.length - 1);
    if (borgServeIndex(argv) === -1) return null;

    const status = parseProcStatus(await fs.readFile(path.join(dir, "status"), "utf8"));
    if (status.uid !== opts.uid) return null;

    const stat = parseProcStat(await fs.readFile(path.join(dir, "stat"), "utf8"));
    if (!stat) return null;

    let clientIp = "";
    try {
      clientIp = clientIpFromEnviron(await fs.readFile(path.join(dir, "environ"), "utf8"));
    } catch {
      // Unreadable environ (permissions, or the process just exited): no client ip.
    }

    const startedSinceBootSec = stat.starttime / CLK_TCK;
    const elapsedSec = opts.clock.uptimeSec - startedSinceBootSec;
    const cpuSec = (stat.utime + stat.stime) / CLK_TCK;
    const cpuPercent = elapsedSec > 0 ? Math.round((cpuSec / elapsedSec) * 1000) / 10 : 0;

    return {
      pid,
      repo: repoLabel(opts.root, restrictedPath(argv)),
      client_ip: clientIp,
      started_at: formatTimestamp((opts.clock.bootTimeSec + startedSinceBootSec) * 1000),
      cpu_percent: cpuPercent,
      rss_bytes: status.rssBytes,
    };
  } catch {
    // The process vanished mid-read (ENOENT/ESRCH) or is not ours to read: skip it.
    return null;
  }
}

/** Live borg serve processes of `uid`, sorted by pid; [] where there is no /proc. */
export async function listBorgSessions(opts: BorgSessionOptions): Promise<BorgSession[]> {
  const procDir = opts.procDir ?? "/proc";
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  let names: string[];
  try {
    names = await fs.readdir(procDir);
  } catch {
    return [];
  }
  const clock = await readProcClock(procDir);
  if (!clock) return [];
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  const sessions = await Promise.all(
    pids.map((pid) => readSession(procDir, pid, { root: opts.root, uid, clock })),
  );
  return sessions.filter((s): s is BorgSession => s !== null).sort((a, b) => a.pid - b.pid);
}

/** True while some borg serve process of the user is restricted to repo `name`. */
export async function repoHasLiveSession(opts: BorgSessionOptions, name: string): Promise<boolean> {
  const sessions = await listBorgSessions(opts);
  return sessions.some((s) => s.repo === name);
}
