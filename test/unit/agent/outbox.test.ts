import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox, type OutboxItem } from "../../../src/agent/outbox.ts";

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-outbox-"));
  dirs.push(dir);
  return join(dir, "outbox");
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const log = (jobId: number, sequence: number): OutboxItem => ({
  kind: "logs",
  job_id: jobId,
  body: {
    entries: [
      {
        sequence,
        stream: "stderr",
        message: `line ${sequence}`,
        created_at: new Date(0).toISOString(),
      },
    ],
  },
});

describe("Outbox", () => {
  test("items come back in the order they were added, across instances (a restart)", async () => {
    const dir = await tempDir();
    const first = new Outbox(dir);
    await first.append({ kind: "start", job_id: 1, body: {} });
    for (let i = 0; i < 12; i++) await first.append(log(1, i));
    const second = new Outbox(dir);
    await second.append({ kind: "complete", job_id: 1, body: { result: { return_code: 0 } } });
    const pending = await second.pending();
    expect(pending.map((p) => p.item.kind)).toEqual([
      "start",
      ...Array(12).fill("logs"),
      "complete",
    ]);
    expect(
      pending
        .filter((p) => p.item.kind === "logs")
        .map(
          (p) =>
            (p.item as { body: { entries: { sequence: number }[] } }).body.entries[0]?.sequence,
        ),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(statSync(join(dir, pending[0]?.id as string)).mode & 0o777).toBe(0o600);
  });

  test("removed items are gone; no temp files are left behind", async () => {
    const dir = await tempDir();
    const outbox = new Outbox(dir);
    await outbox.append(log(2, 0));
    await outbox.append(log(2, 1));
    const [a] = await outbox.pending();
    await outbox.remove(a?.id as string);
    expect((await outbox.pending()).map((p) => p.item)).toEqual([log(2, 1)]);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    await expect(outbox.remove("../../etc/passwd")).rejects.toThrow("not an outbox item");
  });

  test("a corrupt file is reported and skipped, not a reason to stop", async () => {
    const dir = await tempDir();
    const outbox = new Outbox(dir);
    await outbox.append(log(3, 0));
    await writeFile(join(dir, "000000000099.json"), "{half");
    const bad: string[] = [];
    const pending = await outbox.pending((name) => bad.push(name));
    expect(pending).toHaveLength(1);
    expect(bad).toEqual(["000000000099.json"]);
  });
});
