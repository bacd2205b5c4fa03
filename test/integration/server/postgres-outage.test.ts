/**
 * PostgreSQL stopped under a running hub (the real app on start.ts's openHubDatabase, a
 * throwaway cluster): requests that need the database answer 503 `unavailable` — user
 * API and agent protocol alike, from the one mapping in db/pg/unavailable.ts — without a
 * request id or the driver's message; the hub stays up, and once PostgreSQL is back the
 * next request succeeds with no restart. Recovery time is printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../../src/server/app.ts";
import { UNAVAILABLE_MESSAGE } from "../../../src/server/db/pg/unavailable.ts";
import { verifySecretKey } from "../../../src/server/db/secret-key-check.ts";
import { createHubDeps } from "../../../src/server/deps.ts";
import { bootstrapAdmin } from "../../../src/server/services/auth.ts";
import { SecretBox } from "../../../src/server/services/secret-box.ts";
import { newPublicId, newToken } from "../../../src/server/services/tokens.ts";
import { type HubDatabase, openHubDatabase } from "../../../src/server/start.ts";
import { hubConfigSchema } from "../../../src/shared/config/hub.ts";
import { createLogger } from "../../../src/shared/log.ts";
import { AGENT_AUTH_HEADER, AGENT_PROTOCOL_HEADER } from "../../../src/shared/protocol/agent.ts";
import { ErrorBody } from "../../../src/shared/protocol/common.ts";
import { PROTOCOL_VERSION } from "../../../src/shared/protocol/version.ts";
import { ADMIN_PASSWORD, SECRET_KEY } from "../../helpers/hub.ts";
import { type PostgresCluster, startPostgres } from "../../helpers/postgres.ts";

let cluster: PostgresCluster;
let database: HubDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), "borgctl-pg-outage-"));
beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);
afterAll(async () => {
  await database?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("PostgreSQL unreachable under a running hub", () => {
  test("requests answer 503 unavailable, and the hub recovers by itself", async () => {
    const url = await cluster.createDatabase("outage");
    const logged: string[] = [];
    const logger = createLogger({ level: "warn", write: (line) => logged.push(line) });
    const config = hubConfigSchema(dir, dir).parse({
      data_dir: dir,
      database_url: url,
      secret_key: SECRET_KEY,
    });
    database = await openHubDatabase(config, logger);
    const secretBox = SecretBox.fromText(SECRET_KEY);
    await verifySecretKey(database.store, secretBox, Date.now());
    const deps = createHubDeps({
      store: database.store,
      logger,
      secretBox,
      notifier: database.notifier,
      events: database.events,
      credentials: database.credentials,
      sleep: async () => {},
      version: "0.0.0-test",
    });
    await bootstrapAdmin(deps, ADMIN_PASSWORD);
    const app = createApp(deps);
    const request = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const response = await app.request(path, { method, headers }, { ip: "127.0.0.1" });
      const text = await response.text();
      return { status: response.status, text };
    };

    const login = await app.request(
      "/api/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
      },
      { ip: "127.0.0.1" },
    );
    const { token } = (await login.json()) as { token: string };
    const user = { authorization: `Bearer ${token}` };
    const agentToken = newToken("agent");
    await deps.store.machines.insert({
      name: "outage-agent",
      agentId: newPublicId("agt"),
      tokenHash: agentToken.hash,
      tokenPrefix: agentToken.prefix,
      hostname: "host.test",
      os: "linux",
      arch: "x64",
      agentVersion: "0.0.0-test",
      protocolVersion: PROTOCOL_VERSION,
      borgVersions: [{ major: 1, version: "1.2.4", path: "/usr/bin/borg" }],
      capabilities: ["backup.create"],
      sshPublicKey: null,
      status: "online",
    });
    const agent = {
      [AGENT_AUTH_HEADER]: `Bearer ${agentToken.token}`,
      [AGENT_PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
    };
    expect((await request("GET", "/api/repositories", user)).status).toBe(200);

    await cluster.pause();
    const expected: ErrorBody = { error: UNAVAILABLE_MESSAGE, code: "unavailable" };
    for (const [method, path, headers] of [
      ["GET", "/api/repositories", user],
      ["GET", "/api/jobs", user],
      ["GET", "/api/agents/jobs/poll?wait=0", agent],
    ] as const) {
      const during = await request(method, path, headers);
      console.log(`while PostgreSQL is down, ${method} ${path}: ${during.status} ${during.text}`);
      expect({ path, status: during.status }).toEqual({ path, status: 503 });
      const body = ErrorBody.parse(JSON.parse(during.text));
      // No request id: this is not an unknown failure to look up in the log.
      expect(body).toEqual(expected);
      expect(during.text).toContain("the database is unreachable");
      expect(during.text).not.toContain(String(cluster.port));
    }

    await cluster.resume();
    const resumedAt = performance.now();
    const after = await request("GET", "/api/repositories", user);
    console.log(
      `first request after PostgreSQL came back: ${after.status} in ${(performance.now() - resumedAt).toFixed(0)} ms`,
    );
    expect(after.status).toBe(200);
    expect((await request("GET", "/api/agents/jobs/poll?wait=0", agent)).status).toBe(200);
    // Answered outages are not "request failed" errors in the hub's log.
    expect(logged.filter((line) => line.includes("request failed"))).toEqual([]);
  }, 90_000);
});
