/**
 * JSON bodies that are not valid UTF-8 are refused by the box (400 validation_failed) and
 * change nothing: no repo, no authorized_keys line, no job. Request.json() alone would
 * turn the bad bytes into U+FFFD, so a key comment or a passphrase would be taken as
 * something other than what was sent. Raw bytes over real HTTP, like any borgbox client.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { BOX_TOKEN, startTestBox, type TestBox } from "../../helpers/box.ts";
import type { TestKey } from "../../helpers/sshd.ts";

let t: TestBox;
let key: TestKey;

beforeAll(async () => {
  t = await startTestBox();
  key = await t.newKey("utf8");
  expect((await t.api("POST", "/repos", { name: "taken", pubkey: key.publicLine })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await t.stop();
});

const utf8 = (text: string) => new TextEncoder().encode(text);
/** `before<bytes>after` as raw bytes: JSON text around bytes a string can't hold. */
const withBytes = (before: string, bytes: number[], after: string) =>
  new Uint8Array([...utf8(before), ...bytes, ...utf8(after)]);

// "\xc3\x28": a two-byte lead followed by "(".
const INVALID = [0xc3, 0x28];

const send = (method: string, path: string, body: Uint8Array<ArrayBuffer>) =>
  fetch(`${t.box.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${BOX_TOKEN}`, "content-type": "application/json" },
    body,
  });

/** Sends the body, expects the UTF-8 refusal, and that the keys file, root and jobs are as before. */
async function expectRefusedUnchanged(method: string, path: string, body: Uint8Array<ArrayBuffer>) {
  const keysBefore = await readFile(t.keysFile);
  const dirsBefore = (await readdir(t.root)).sort();
  const reposBefore = (await t.api("GET", "/repos")).body;
  const jobsBefore = (await t.api("GET", "/jobs")).body;
  const response = await send(method, path, body);
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({
    error: "request body is not valid UTF-8",
    code: "validation_failed",
  });
  expect((await readFile(t.keysFile)).equals(keysBefore)).toBe(true);
  expect((await readdir(t.root)).sort()).toEqual(dirsBefore);
  expect((await t.api("GET", "/repos")).body).toEqual(reposBefore);
  expect((await t.api("GET", "/jobs")).body).toEqual(jobsBefore);
}

describe("invalid UTF-8 in box JSON bodies", () => {
  test("creating a repo with bad bytes in the key's comment: refused, no repo, no key line", async () => {
    await expectRefusedUnchanged(
      "POST",
      "/repos",
      withBytes(`{"name":"fresh","pubkey":"${key.publicLine} laptop`, INVALID, '"}'),
    );
    expect((await t.api("GET", "/repos/fresh")).status).toBe(404);
  });

  test("bad bytes in the name, a lone continuation byte, a truncated end: refused", async () => {
    await expectRefusedUnchanged(
      "POST",
      "/repos",
      withBytes('{"name":"fresh', INVALID, `","pubkey":"${key.publicLine}"}`),
    );
    await expectRefusedUnchanged(
      "POST",
      "/repos/import",
      withBytes(`{"name":"taken","pubkey":"${key.publicLine}`, [0x80], '"}'),
    );
    await expectRefusedUnchanged(
      "POST",
      "/repos",
      new Uint8Array([
        ...utf8(JSON.stringify({ name: "fresh", pubkey: key.publicLine })),
        0xe2,
        0x82,
      ]),
    );
  });

  test("a passphrase with bad bytes starts no maintenance job", async () => {
    for (const [path, before] of [
      ["/repos/taken/check", '{"passphrase":"pass'],
      ["/repos/taken/compact", '{"passphrase":"pass'],
      ["/repos/taken/prune", '{"keep_daily":7,"passphrase":"pass'],
    ] as const) {
      await expectRefusedUnchanged("POST", path, withBytes(before, INVALID, '"}'));
    }
  });

  test("valid multi-byte UTF-8 still decodes: the schema, not the decoder, answers", async () => {
    const response = await send(
      "POST",
      "/repos",
      utf8(JSON.stringify({ name: "ünï", pubkey: key.publicLine })),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; code: string };
    expect(body.code).toBe("validation_failed");
    expect(body.error).toStartWith("name: ");
  });
});
