import { describe, expect, test } from "bun:test";
import { UpdateMachineRequest } from "../../../src/shared/protocol/api.ts";
import { formatLabels, machineUpdateBody, parseLabels } from "../../../src/ui/machine-labels.ts";

describe("labels as key=value lines", () => {
  test("format and parse round-trip; blanks and spaces around parts are dropped", () => {
    const labels = { site: "home", "role.backup": "nas" };
    expect(formatLabels(labels)).toBe("site=home\nrole.backup=nas");
    expect(parseLabels(formatLabels(labels))).toEqual({ ok: true, labels });
    expect(parseLabels(" site = home \r\n\n")).toEqual({ ok: true, labels: { site: "home" } });
    expect(parseLabels("")).toEqual({ ok: true, labels: {} });
  });

  test("a value may be empty or hold '='", () => {
    expect(parseLabels("note=a=b\nempty=")).toEqual({
      ok: true,
      labels: { note: "a=b", empty: "" },
    });
  });

  test("bad lines are refused with their line number", () => {
    expect(parseLabels("site=home\nnas")).toEqual({
      ok: false,
      error: "line 2: write a label as key=value",
    });
    const upper = parseLabels("Site=home");
    expect(upper.ok).toBe(false);
    if (!upper.ok) expect(upper.error).toStartWith('line 1: "Site" is not a label key');
    expect(parseLabels("a=1\na=2")).toEqual({ ok: false, error: 'line 2: "a" is given twice' });
    expect(parseLabels(`a=${"x".repeat(257)}`).ok).toBe(false);
  });
});

describe("machineUpdateBody", () => {
  const machine = { name: "nas", labels: { site: "home" } };

  test("nothing changed sends nothing", () => {
    expect(machineUpdateBody(machine, { name: " nas ", labels: "site=home\n" })).toEqual({
      ok: true,
      body: {},
    });
  });

  test("only the name, or only the labels, or both; the body passes the hub's schema", () => {
    const renamed = machineUpdateBody(machine, { name: "nas-2", labels: "site=home" });
    expect(renamed).toEqual({ ok: true, body: { name: "nas-2" } });
    const relabelled = machineUpdateBody(machine, { name: "nas", labels: "site=office\nrack=3" });
    expect(relabelled).toEqual({ ok: true, body: { labels: { site: "office", rack: "3" } } });
    if (relabelled.ok) expect(UpdateMachineRequest.safeParse(relabelled.body).success).toBe(true);
    expect(machineUpdateBody(machine, { name: "nas", labels: "" })).toEqual({
      ok: true,
      body: { labels: {} },
    });
  });

  test("an empty name or a bad label line points at its field", () => {
    expect(machineUpdateBody(machine, { name: " ", labels: "" })).toMatchObject({
      ok: false,
      field: "name",
    });
    expect(machineUpdateBody(machine, { name: "nas", labels: "oops" })).toMatchObject({
      ok: false,
      field: "labels",
    });
  });
});
