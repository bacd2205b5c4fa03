/**
 * `borgctl server` with a database URL, as a process (bun src/main.ts): a malformed URL
 * is exit 2 naming the key, an unreachable one exit 1 with one line naming host, port and
 * the driver's reason and never the password, `--check-database` reaches, migrates and
 * key-checks the database and exits 0, a start with another secret key is exit 1 saying
 * so, and the SQLite default still checks out.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type PostgresCluster, startPostgres } from "../../helpers/postgres.ts";

const MAIN = resolve(import.meta.dir, "../../../src/main.ts");
const KEY = Buffer.alloc(32, 3).toString("base64");
const PASSWORD = "sw0rdfish-not-to-be-printed";

let cluster: PostgresCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), "borgctl-dburl-"));
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function server(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([process.execPath, MAIN, "server", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      BORGCTL_DATA_DIR: join(dir, "data"),
      BORGCTL_SECRET_KEY: KEY,
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code, all: stdout + stderr };
}

describe("borgctl server --database-url", () => {
  test("a malformed URL is exit 2 naming the key, without echoing it", async () => {
    const result = await server(["--check-database"], {
      BORGCTL_DATABASE_URL: `mysql://u:${PASSWORD}@db/x`,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("database_url");
    expect(result.stderr).toContain("env BORGCTL_DATABASE_URL");
    expect(result.all).not.toContain(PASSWORD);
  });

  test("an unreachable database is exit 1: one line with host, port and reason, no password", async () => {
    const result = await server(["--check-database"], {
      BORGCTL_DATABASE_URL: `postgres://borg:${PASSWORD}@127.0.0.1:1/borgctl`,
    });
    console.log(`unreachable: ${result.stderr.trim()}`);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("127.0.0.1:1");
    expect(result.all).not.toContain(PASSWORD);
  });

  test("--check-database migrates and checks, the URL may come from a file; another key is refused", async () => {
    const url = await cluster.createDatabase("cli");
    const urlFile = join(dir, "database-url");
    writeFileSync(urlFile, `${url}\n`, { mode: 0o600 });
    const first = await server(["--check-database"], { BORGCTL_DATABASE_URL_FILE: urlFile });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("database ok");
    expect(first.stdout).toContain("migrations applied now");
    const again = await server(["--check-database", "--database-url", url]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("schema current");
    const otherKey = await server(["--check-database"], {
      BORGCTL_DATABASE_URL: `@${urlFile}`,
      BORGCTL_SECRET_KEY: Buffer.alloc(32, 4).toString("base64"),
    });
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toContain("secret key differs");
  });

  test("without a URL the SQLite default checks out as before", async () => {
    const result = await server(["--check-database"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("database ok: sqlite");
  });
});
