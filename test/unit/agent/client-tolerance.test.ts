/**
 * The agent reads a newer hub's answers: a field it does not know, at any depth, is
 * dropped, never a reason to call the answer unexpected (which would stop the agent
 * talking to a hub that was upgraded before it). And it reads the spec's poll answer
 * (type, payload with secret references) as well as an older hub's without them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { HubClient } from "../../../src/agent/client.ts";

let answer: () => Response = () => new Response("{}");
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => answer() });
afterAll(() => server.stop(true));
const client = new HubClient({
  serverUrl: `http://127.0.0.1:${server.port}`,
  token: "borgctl_agent_x",
});

const EXTRA = { added_in_a_later_version: { anything: [1, "two"] } };
const at = new Date(0).toISOString();

describe("answers from a newer hub", () => {
  test("register, heartbeat, poll, claim, uploads and status: unknown fields are dropped", async () => {
    answer = () =>
      Response.json({
        agent_id: "agt_1",
        agent_token: "borgctl_agent_1",
        server_time: at,
        poll_interval_seconds: 15,
        heartbeat_interval_seconds: 30,
        ...EXTRA,
      });
    const registered = await client.register({
      enrollment_token: "borgctl_enroll_x",
      protocol_version: 1,
      hostname: "h",
      os: "linux",
      arch: "x64",
      agent_version: "1",
      borg_versions: [],
      capabilities: [],
    });
    expect(registered).not.toHaveProperty("added_in_a_later_version");

    answer = () =>
      Response.json({
        server_time: at,
        poll_interval_seconds: 15,
        heartbeat_interval_seconds: 30,
        cancel_job_ids: [],
        ...EXTRA,
      });
    await client.heartbeat({ agent_id: "agt_1", protocol_version: 1, running_job_ids: [] });

    answer = () =>
      Response.json({
        jobs: [
          {
            id: 3,
            type: "backup.create",
            job_kind: "backup.create",
            repository_id: 1,
            created_at: at,
            payload: {
              schema_version: 1,
              job_kind: "backup.create",
              secrets: {
                passphrase_location: "hub",
                passphrase: { secret_ref: "repository-passphrase" },
              },
              something_new: true,
            },
            ...EXTRA,
          },
        ],
        next_cursor: "abc",
      });
    expect((await client.poll(0)).jobs.map((j) => j.id)).toEqual([3]);

    // An older hub: no type, no payload.
    answer = () =>
      Response.json({
        jobs: [{ id: 4, job_kind: "repo.check", repository_id: 1, created_at: at }],
      });
    expect((await client.poll(0)).jobs.map((j) => j.id)).toEqual([4]);

    answer = () =>
      Response.json({
        status: "claimed",
        ...EXTRA,
        job: {
          schema_version: 1,
          job_id: 3,
          job_kind: "backup.create",
          repository: {
            id: 1,
            name: "r",
            location: "/srv/borg/r",
            borg_version: 1,
            encryption: "repokey-blake2",
            append_only: false,
            ssh_host_key: null,
            ...EXTRA,
          },
          backup: {
            archive_name: "{hostname}-{now}",
            source_paths: ["/home"],
            exclude_patterns: [],
            compression: "lz4",
            ...EXTRA,
          },
          secrets: { passphrase_location: "hub", passphrase: "p", ...EXTRA },
          ...EXTRA,
        },
      });
    const claimed = await client.claim(3);
    expect(claimed.job.job_kind).toBe("backup.create");
    expect(JSON.stringify(claimed)).not.toContain("added_in_a_later_version");

    answer = () => Response.json({ status: "running", cancel_requested: false, ...EXTRA });
    expect(await client.start(3, {})).toEqual({ status: "running", cancel_requested: false });
    answer = () =>
      Response.json({
        status: "running",
        cancel_requested: false,
        accepted: 1,
        duplicates: 0,
        ...EXTRA,
      });
    await client.logs(3, [{ sequence: 0, stream: "stderr", message: "m", created_at: at }]);
    answer = () => Response.json({ id: 3, status: "running", cancel_requested: true, ...EXTRA });
    expect((await client.jobStatus(3)).cancel_requested).toBe(true);
  });
});
