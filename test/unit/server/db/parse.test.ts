import { describe, expect, test } from "bun:test";
import { z } from "zod";
import {
  parseMaybe,
  parseRow,
  parseRows,
  StoredRecordError,
} from "../../../../src/server/db/sqlite/parse.ts";

const Record = z.object({ id: z.number(), labels: z.record(z.string(), z.string()) });

describe("parseRow", () => {
  test("answers the parsed record, without columns the record does not name", () => {
    expect(parseRow(Record, "t", { id: 1, labels: { a: "b" }, extra: true })).toEqual({
      id: 1,
      labels: { a: "b" },
    });
    expect(parseMaybe(Record, "t", undefined)).toBeUndefined();
    expect(parseRows(Record, "t", [{ id: 1, labels: {} }])).toEqual([{ id: 1, labels: {} }]);
  });

  test("a mismatch names the table, the row and the field, not the value", () => {
    const attempt = () => parseRow(Record, "agent_machines", { id: 7, labels: ["secret-ish"] });
    expect(attempt).toThrow(StoredRecordError);
    expect(attempt).toThrow(/^stored agent_machines row 7 does not match its record: labels: /);
    expect(attempt).not.toThrow(/secret-ish/);
    expect(() => parseRow(Record.shape.labels, "repositories.archives", 3, 12)).toThrow(
      /^stored repositories.archives row 12 does not match its record: \(row\): /,
    );
  });
});
