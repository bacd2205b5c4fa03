/**
 * The machine edit form's pure logic: labels edited as `key=value` lines ↔ the labels
 * record, and the form → the changed fields of an UpdateMachineRequest (or what is wrong
 * with it). No DOM, so the unit tests pin it.
 */

/** The hub's label key rule (UpdateMachineRequest), checked here to point at the line. */
const LABEL_KEY = /^[a-z0-9][a-z0-9._/-]{0,62}$/;

export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

export type LabelsResult =
  | { ok: true; labels: Record<string, string> }
  | { ok: false; error: string };

/** `key=value` a line; blank lines are dropped, the value may be empty or hold "=". */
export function parseLabels(text: string): LabelsResult {
  const labels: Record<string, string> = {};
  const rows = text.split(/\r?\n/);
  for (const [index, raw] of rows.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const at = line.indexOf("=");
    const where = `line ${index + 1}`;
    if (at < 0) return { ok: false, error: `${where}: write a label as key=value` };
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (!LABEL_KEY.test(key)) {
      return {
        ok: false,
        error: `${where}: "${key}" is not a label key (lowercase letters, digits and . _ / -, starting with a letter or digit)`,
      };
    }
    if (key in labels) return { ok: false, error: `${where}: "${key}" is given twice` };
    if (value.length > 256)
      return { ok: false, error: `${where}: the value is over 256 characters` };
    labels[key] = value;
  }
  return { ok: true, labels };
}

export type MachineUpdateResult =
  | { ok: true; body: { name?: string; labels?: Record<string, string> } }
  | { ok: false; field: "name" | "labels"; error: string };

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([key, value]) => b[key] === value);

/** The PATCH /api/managed-machines/{id} body: only the name and labels that changed. */
export function machineUpdateBody(
  original: { name: string; labels: Record<string, string> },
  values: { name: string; labels: string },
): MachineUpdateResult {
  const name = values.name.trim();
  if (name === "") return { ok: false, field: "name", error: "give the machine a name" };
  const parsed = parseLabels(values.labels);
  if (!parsed.ok) return { ok: false, field: "labels", error: parsed.error };
  const body: { name?: string; labels?: Record<string, string> } = {};
  if (name !== original.name) body.name = name;
  if (!sameLabels(parsed.labels, original.labels)) body.labels = parsed.labels;
  return { ok: true, body };
}
