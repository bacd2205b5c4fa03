/**
 * `borgctl agent register` with an enrollment token the hub refuses (wrong, used, expired,
 * revoked): the command prints the hub's own reason — not the message meant for a
 * revoked agent credential — and leaves neither a config, nor a key pair, nor a state
 * directory behind. A state directory that existed before keeps what it had.
 * The real register command (citty) against the real hub on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "citty";
import registerCommand from "../../../src/cli/commands/agent/register.ts";
import { ENROLLMENT_REFUSED } from "../../../src/server/services/agents.ts";
import { EnrollmentToken } from "../../../src/shared/protocol/api.ts";
import { createTestHub } from "../../helpers/hub.ts";

const hub = createTestHub();
let server: ReturnType<typeof hub.serve>;
let admin: string;
let dir: string;

beforeAll(async () => {
  server = hub.serve();
  admin = await hub.login();
  dir = await mkdtemp(join(tmpdir(), "borgctl-register-refused-"));
});
afterAll(async () => {
  server.stop();
  hub.close();
  await rm(dir, { recursive: true, force: true });
});

async function enrollmentToken(expiresInMinutes = 10): Promise<string> {
  const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
    token: admin,
    body: { name: "register test", expires_in_minutes: expiresInMinutes },
  });
  return (created.body as { token: string }).token;
}

/** Runs the CLI command; resolves with the error it ended with (undefined: it succeeded). */
async function register(token: string, name: string): Promise<Error | undefined> {
  const log = console.log;
  console.log = () => {};
  try {
    await runCommand(registerCommand, {
      rawArgs: [
        ...["--server", server.url, "--token", token, "--log-level", "silent"],
        ...["--config", join(dir, name, "agent.toml"), "--state-dir", join(dir, name, "state")],
      ],
    });
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    console.log = log;
  }
}

const exists = (path: string) =>
  readFile(path).then(
    () => true,
    () => false,
  );

describe("agent register with a refused enrollment token", () => {
  test("wrong, used, expired and revoked: the hub's reason, nothing left behind", async () => {
    const used = await enrollmentToken();
    expect(await register(used, "first")).toBeUndefined();

    const revoked = await enrollmentToken();
    const tokens = EnrollmentToken.array().parse(
      (await hub.request("GET", "/api/managed-machines/enrollment-tokens", { token: admin })).body,
    );
    const revokedId = tokens.at(-1)?.id;
    await hub.request("DELETE", `/api/managed-machines/enrollment-tokens/${revokedId}`, {
      token: admin,
    });

    const expired = await enrollmentToken(1);
    hub.tick(60_000 + 1);

    const cases = {
      wrong: `borgctl_enroll_${"x".repeat(43)}`,
      used,
      expired,
      revoked,
    };
    for (const [what, token] of Object.entries(cases)) {
      const error = await register(token, what);
      expect(error?.name, what).toBe("UserError");
      expect(error?.message, what).toBe(
        `the hub refused to register this machine: ${ENROLLMENT_REFUSED}`,
      );
      expect(error?.message).not.toContain("credential");
      expect(error?.message).not.toContain(token);
      // No config, no key pair, no state directory: the machine is as it was.
      expect(await readdir(join(dir, what)).catch(() => "absent")).toBe("absent");
    }
  }, 30_000);

  test("a state directory that existed keeps its key; a new key made for the attempt goes", async () => {
    const state = join(dir, "kept", "state");
    await mkdir(state, { recursive: true, mode: 0o700 });
    await writeFile(join(state, "outbox-marker"), "kept\n");
    const error = await register(`borgctl_enroll_${"y".repeat(43)}`, "kept");
    expect(error?.message).toContain(ENROLLMENT_REFUSED);
    expect((await readdir(state)).sort()).toEqual(["outbox-marker"]);
    expect(await exists(join(dir, "kept", "agent.toml"))).toBe(false);

    // A key pair from an earlier enrollment is the machine's: a refused attempt keeps it.
    const keyed = join(dir, "keyed", "state");
    await mkdir(keyed, { recursive: true, mode: 0o700 });
    await writeFile(join(keyed, "id_ed25519"), "private\n", { mode: 0o600 });
    await writeFile(join(keyed, "id_ed25519.pub"), "ssh-ed25519 AAAA earlier\n");
    await register(`borgctl_enroll_${"z".repeat(43)}`, "keyed");
    expect(await readFile(join(keyed, "id_ed25519.pub"), "utf8")).toBe(
      "ssh-ed25519 AAAA earlier\n",
    );
    expect(await exists(join(keyed, "id_ed25519"))).toBe(true);
  }, 30_000);

  test("a register body the hub cannot take: the 400 names the field", async () => {
    // The real agent never sends this; a raw request shows what a spec-following agent
    // sees for a body missing what the hub needs.
    const reply = await fetch(`${server.url}/api/agents/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ enrollment_token: await enrollmentToken(), hostname: "h" }),
    });
    expect(reply.status).toBe(400);
    const body = (await reply.json()) as { error: string; details: { path: string }[] };
    expect(body.error).toStartWith("os: required; arch: required; agent_version: required");
    expect(body.details.map((d) => d.path)).toEqual([
      "os",
      "arch",
      "agent_version",
      "borg_versions",
      "capabilities",
    ]);
  });
});
