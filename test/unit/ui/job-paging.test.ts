import { describe, expect, test } from "bun:test";
import { appendOlder, olderCursor } from "../../../src/ui/job-paging.ts";

const ids = (...list: number[]) => list.map((id) => ({ id }));

describe("job history paging", () => {
  test("a full page points at its last (oldest) id; a short or empty page is the last", () => {
    expect(olderCursor(ids(9, 8, 7), 3)).toBe(7);
    expect(olderCursor(ids(9, 8), 3)).toBeNull();
    expect(olderCursor([], 3)).toBeNull();
  });

  test("older pages go after the shown ones, each job once", () => {
    expect(appendOlder(ids(9, 8, 7), ids(7, 6, 5)).map((j) => j.id)).toEqual([9, 8, 7, 6, 5]);
    expect(appendOlder([], ids(2, 1)).map((j) => j.id)).toEqual([2, 1]);
  });

  test("the shown copy of a job wins over the older page's", () => {
    const shown = [{ id: 3, status: "running" }];
    const older = [
      { id: 3, status: "queued" },
      { id: 2, status: "completed" },
    ];
    expect(appendOlder(shown, older)).toEqual([
      { id: 3, status: "running" },
      { id: 2, status: "completed" },
    ]);
  });
});
