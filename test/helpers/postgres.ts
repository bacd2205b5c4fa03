/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temp dir, `postgres` on a free
 * 127.0.0.1 port with its socket in that dir, no system service. PostgreSQL refuses to
 * run as root, so when the tests run as root both programs run as the `postgres` user
 * (runuser, no shell); otherwise as the current user. Durability is switched off
 * (fsync, synchronous_commit): the cluster lives for one test file. Benchmarks pass
 * `durable: true` to measure PostgreSQL with its production defaults instead.
 *
 * Lifecycle: startPostgres() → createDatabase() per test as needed → stop() (fast
 * shutdown, then the directory is removed). A cluster that fails to start says why,
 * with the tail of the server's log.
 */
import { chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess, type SpawnedProcess, spawnProcess } from "../../src/shared/process/spawn.ts";

export interface PostgresCluster {
  host: string;
  port: number;
  /** The temp directory holding the data directory and the socket (removed by stop()). */
  dir: string;
  /** argv that stops the server without this process (pg_ctl, as the user it runs as). */
  stopArgv: string[];
  /** A URL for `database` as the superuser (trust auth: no password). */
  url(database?: string): string;
  /** A new, empty database; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server only (an outage); start() brings it back on the same port and data. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin). */
export async function postgresBinDir(): Promise<string | undefined> {
  const glob = new Bun.Glob("*/bin/initdb");
  const found: string[] = [];
  try {
    for await (const path of glob.scan({ cwd: "/usr/lib/postgresql", onlyFiles: true })) {
      found.push(path);
    }
  } catch {
    return undefined;
  }
  found.sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10));
  return found[0] === undefined ? undefined : join("/usr/lib/postgresql", found[0], "..");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = (line ?? "").split(":");
  if (uid === undefined || gid === undefined) {
    throw new Error("running as root but there is no postgres user to run PostgreSQL as");
  }
  return { uid: Number(uid), gid: Number(gid) };
}

let databaseCounter = 0;

export interface PostgresOptions {
  /** Keep PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes). */
  durable?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
  const bin = await postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (.ci/run installs `postgresql`)");
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "borgctl-pg-"));
  const data = join(dir, "data");
  if (asRoot) {
    const { uid, gid } = postgresUid();
    chownSync(dir, uid, gid);
  }
  const as = (argv: string[]): string[] =>
    asRoot ? ["runuser", "-u", "postgres", "--", ...argv] : argv;

  const init = await runProcess({
    argv: as([join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
    captureStdout: true,
  });
  if (init.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.exitCode}): ${init.stderrTail.join("\n")}`);
  }

  const port = await freePort();
  const host = "127.0.0.1";
  let server: SpawnedProcess | undefined;
  const log: string[] = [];
  const launch = async (): Promise<void> => {
    log.length = 0;
    const started = spawnProcess({
      argv: as([
        join(bin, "postgres"),
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        `listen_addresses=${host}`,
        ...(options.durable
          ? []
          : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
        "-c",
        "max_connections=200",
      ]),
      onStderrLine: (line) => {
        log.push(line);
        if (log.length > 50) log.shift();
      },
      grace: { interruptMs: 10_000, terminateMs: 5_000 },
    });
    server = started;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const probe = await runProcess({
        argv: [join(bin, "pg_isready"), "-h", host, "-p", String(port), "-U", "postgres"],
      });
      if (probe.exitCode === 0) return;
      const exited = await Promise.race([started.done.then(() => true), Bun.sleep(50)]);
      if (exited || Date.now() > deadline) {
        started.cancel();
        await started.done;
        throw new Error(`postgres did not start on ${host}:${port}:\n${log.join("\n")}`);
      }
    }
  };
  const halt = async (): Promise<void> => {
    const running = server;
    server = undefined;
    if (!running) return;
    running.cancel(); // SIGINT: PostgreSQL's fast shutdown
    await running.done;
  };

  try {
    await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const url = (database = "postgres") => `postgres://postgres@${host}:${port}/${database}`;
  return {
    host,
    port,
    dir,
    stopArgv: as([join(bin, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w"]),
    url,
    async createDatabase(prefix = "t") {
      const name = `${prefix}_${process.pid}_${++databaseCounter}`;
      const admin = new Bun.SQL(url(), { max: 1 });
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.close();
      }
      return url(name);
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    pause: halt,
    resume: launch,
  };
}
