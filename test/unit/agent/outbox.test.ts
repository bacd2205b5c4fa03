import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidOutboxItem, Outbox, type OutboxItem } from "../../../src/agent/outbox.ts";

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-outbox-"));
  dirs.push(dir);
  return join(dir, "outbox");
}
/** An outbox dir that already exists, for tests that put files in it by hand. */
async function existingDir() {
  const dir = await tempDir();
  await mkdir(dir, { recursive: true });
  return dir;
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
    const { items: pending } = await second.pending();
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
    const [a] = (await outbox.pending()).items;
    await outbox.remove(a?.id as string);
    expect((await outbox.pending()).items.map((p) => p.item)).toEqual([log(2, 1)]);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    await expect(outbox.remove("../../etc/passwd")).rejects.toThrow("not an outbox item");
  });

  test("a corrupt file comes back as unreadable, with the job id its raw text still shows", async () => {
    const dir = await existingDir();
    const outbox = new Outbox(dir);
    await outbox.append(log(3, 0));
    // A result cut short on disk: not JSON any more, but its top-level keys are there.
    await writeFile(
      join(dir, "000000000099.json"),
      '{"kind":"complete","job_id":42,"body":{"result":{"return_code":1,"warnings":["borg said \\"job_id\\":7',
    );
    await writeFile(join(dir, "000000000100.json"), "{half");
    const { items, unreadable } = await outbox.pending();
    expect(items.map((p) => p.item)).toEqual([log(3, 0)]);
    expect(unreadable.map(({ id, jobId, kind }) => ({ id, jobId, kind }))).toEqual([
      { id: "000000000099.json", jobId: 42, kind: "complete" },
      { id: "000000000100.json", jobId: undefined, kind: undefined },
    ]);
    expect(unreadable[0]?.reason).toMatch(/^not JSON/);
  });

  test("an item in an old format is unreadable with the schema's reason and its job id", async () => {
    const dir = await existingDir();
    const outbox = new Outbox(dir);
    await writeFile(
      join(dir, "000000000001.json"),
      JSON.stringify({ kind: "fail", job_id: 9, body: { message: "old field name" } }),
    );
    const { unreadable } = await outbox.pending();
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]).toMatchObject({ id: "000000000001.json", jobId: 9, kind: "fail" });
    expect(unreadable[0]?.reason).toContain("body.error_message");
  });

  test("setAside keeps the file as <name>.bad, out of the queue; its number is never reused", async () => {
    const dir = await existingDir();
    const outbox = new Outbox(dir);
    await writeFile(join(dir, "000000000007.json"), "{half");
    const [bad] = (await outbox.pending()).unreadable;
    expect(await outbox.setAside(bad?.id as string)).toBe("000000000007.json.bad");
    expect(await outbox.pending()).toEqual({ items: [], unreadable: [] });
    expect(await readFile(join(dir, "000000000007.json.bad"), "utf8")).toBe("{half");
    // A new process must not number its next item 7 and overwrite what was kept.
    await new Outbox(dir).append(log(4, 0));
    expect((await readdir(dir)).sort()).toEqual(["000000000007.json.bad", "000000000008.json"]);
    await expect(outbox.setAside("../x.json")).rejects.toThrow("not an outbox item");
  });

  test("append refuses an item that would not read back, and writes nothing", async () => {
    const dir = await tempDir();
    const outbox = new Outbox(dir);
    const tooLong = {
      kind: "fail",
      job_id: 5,
      body: { error_message: "x".repeat(8 * 1024 + 1), return_code: 2 },
    } as OutboxItem;
    const error = await outbox.append(tooLong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOutboxItem);
    expect((error as Error).message).toContain("fail upload for job 5");
    expect((error as Error).message).toContain("body.error_message");
    await expect(
      outbox.append({ kind: "logs", job_id: 5, body: { entries: [] } }),
    ).rejects.toBeInstanceOf(InvalidOutboxItem);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });

  test("an item queued over a cap by an older agent is fitted when read back, not lost", async () => {
    const dir = await existingDir();
    const outbox = new Outbox(dir);
    const traceback = `Traceback (most recent call last):\n${"  frame\n".repeat(1200)}OSError: [Errno 28] No space left on device`;
    await writeFile(
      join(dir, "000000000001.json"),
      JSON.stringify({
        kind: "fail",
        job_id: 6,
        body: { error_message: traceback, return_code: 2 },
      }),
    );
    const { items, unreadable } = await outbox.pending();
    expect(unreadable).toEqual([]);
    const item = items[0]?.item;
    expect(item?.kind).toBe("fail");
    const message = item?.kind === "fail" ? item.body.error_message : "";
    expect(message.length).toBe(8 * 1024);
    expect(message.endsWith("No space left on device")).toBe(true);
    expect(message).toContain("…[truncated ");
  });
});
