import { describe, expect, test } from "bun:test";
import {
  CreateRepositoryRequest,
  DEFAULT_ARCHIVE_NAME,
  PruneJobRequest,
  UpdateRepositoryRequest,
} from "../../../src/shared/protocol/api.ts";
import { validationError } from "../../../src/shared/validation-error.ts";
import {
  agentSecretCommand,
  editValuesOf,
  emptyRepositoryForm,
  fieldErrors,
  lines,
  needsPassphraseField,
  type RepositoryFormValues,
  repositoryRequestBody,
  repositoryUpdateBody,
  retentionRequestBody,
} from "../../../src/ui/repository-form.ts";

const filled: RepositoryFormValues = {
  ...emptyRepositoryForm,
  name: " laptop-home ",
  agent_machine_id: "3",
  location: " /srv/backups/laptop ",
  passphrase: "correct horse",
  source_paths: "/home\n\n  /etc  \r\n",
  exclude_patterns: "*/.cache\n",
};

describe("lines", () => {
  test("one entry a line, trimmed, blanks dropped, CRLF too", () => {
    expect(lines(" /a \r\n\n/b\n  \n")).toEqual(["/a", "/b"]);
    expect(lines("")).toEqual([]);
  });
});

describe("repositoryRequestBody", () => {
  test("a filled form becomes a body the hub's schema accepts, with the defaults shown in the form", () => {
    const body = repositoryRequestBody(filled);
    expect(body).toEqual({
      name: "laptop-home",
      agent_machine_id: 3,
      location: "/srv/backups/laptop",
      encryption: "repokey-blake2",
      passphrase_location: "hub",
      passphrase: "correct horse",
      source_paths: ["/home", "/etc"],
      exclude_patterns: ["*/.cache"],
      compression: "lz4",
      archive_name: DEFAULT_ARCHIVE_NAME,
    });
    expect(CreateRepositoryRequest.safeParse(body).success).toBe(true);
  });

  test("keeping the passphrase on the machine sends none, even if one was typed before", () => {
    const values = { ...filled, keep_on_machine: true };
    expect(needsPassphraseField(values)).toBe(false);
    const body = repositoryRequestBody(values);
    expect(body.passphrase_location).toBe("agent");
    expect("passphrase" in body).toBe(false);
  });

  test("encryption none sends no passphrase; an empty passphrase is left out for the hub to refuse", () => {
    const none = repositoryRequestBody({ ...filled, encryption: "none" });
    expect("passphrase" in none).toBe(false);
    expect(needsPassphraseField({ ...filled, encryption: "none" })).toBe(false);
    expect("passphrase" in repositoryRequestBody({ ...filled, passphrase: "" })).toBe(false);
  });

  test("empty compression and archive name fall back to the hub's defaults; a passphrase keeps its spaces", () => {
    const body = repositoryRequestBody({
      ...filled,
      compression: " ",
      archive_name: "",
      passphrase: " spaced out ",
    });
    expect("compression" in body).toBe(false);
    expect("archive_name" in body).toBe(false);
    expect(body.passphrase).toBe(" spaced out ");
    const parsed = CreateRepositoryRequest.parse(body);
    expect(parsed.compression).toBe("lz4");
    expect(parsed.archive_name).toBe("{hostname}-{now:%Y-%m-%dT%H:%M:%S.%f}");
  });

  test("no sources and no machine still make a body, which the schema refuses on those fields", () => {
    const body = repositoryRequestBody({ ...filled, source_paths: " \n", agent_machine_id: "" });
    const parsed = CreateRepositoryRequest.safeParse(body);
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => i.path.join(".")).sort();
    expect(paths).toEqual(["agent_machine_id", "source_paths"]);
  });
});

describe("optional source paths in the forms", () => {
  test("create: one a line, left out when empty; the hub's item error lands on the field", () => {
    expect("optional_source_paths" in repositoryRequestBody(filled)).toBe(false);
    const body = repositoryRequestBody({
      ...filled,
      optional_source_paths: " /media/usb \n\nmedia/relative\n",
    });
    expect(body.optional_source_paths).toEqual(["/media/usb", "media/relative"]);
    // The hub refuses the relative one by its own check (400, details naming the item).
    const errors = fieldErrors({
      status: 400,
      message: "optional_source_paths.1 must be an absolute path",
      details: [{ path: "optional_source_paths.1", message: "must be an absolute path" }],
    });
    expect(errors.general).toBeNull();
    expect(Object.keys(errors.fields)).toEqual(["optional_source_paths"]);
  });

  test("edit: starts from the stored list (none from an older hub); only a change is sent", () => {
    const stored = {
      name: "laptop",
      source_paths: ["/home"],
      optional_source_paths: ["/media/usb"],
      exclude_patterns: [],
      compression: "lz4",
      archive_name: "{hostname}-{now}",
    };
    const values = editValuesOf(stored);
    expect(values.optional_source_paths).toBe("/media/usb");
    expect(repositoryUpdateBody(stored, values, true)).toEqual({});
    const cleared = { ...values, optional_source_paths: " \n" };
    const body = repositoryUpdateBody(stored, cleared, true);
    expect(body).toEqual({ optional_source_paths: [] });
    expect(UpdateRepositoryRequest.safeParse(body).success).toBe(true);
    const { optional_source_paths: _, ...older } = stored;
    expect(editValuesOf(older).optional_source_paths).toBe("");
    expect(repositoryUpdateBody(older, editValuesOf(older), true)).toEqual({});
  });
});

describe("agentSecretCommand", () => {
  test("names the repository, quoting what the shell would split", () => {
    expect(agentSecretCommand("laptop-home")).toBe("borgctl agent secret set laptop-home");
    expect(agentSecretCommand("my repo")).toBe("borgctl agent secret set 'my repo'");
    expect(agentSecretCommand("it's")).toBe("borgctl agent secret set 'it'\\''s'");
    expect(agentSecretCommand("  ")).toBe("borgctl agent secret set NAME");
  });
});

describe("fieldErrors", () => {
  const fromSchema = (body: unknown) => {
    const parsed = CreateRepositoryRequest.safeParse(body);
    if (parsed.success) throw new Error("expected a refusal");
    const error = validationError(parsed.error.issues);
    return fieldErrors({ status: 400, message: error.message, details: error.details });
  };

  test("the hub's schema details land on their fields (item paths on their list)", () => {
    const errors = fromSchema(repositoryRequestBody({ ...filled, source_paths: "" }));
    expect(errors.general).toBeNull();
    expect(errors.fields.source_paths).toBe(
      "Give at least one folder to back up, one a line, e.g. /home",
    );
    const items = fromSchema({ ...repositoryRequestBody(filled), exclude_patterns: [""] });
    expect(Object.keys(items.fields)).toEqual(["exclude_patterns"]);
  });

  test("generic schema complaints become what to type; the hub's specific hints stay", () => {
    const errors = fromSchema({ ...repositoryRequestBody(filled), name: "", compression: "BAD!" });
    expect(errors.fields.name).toBe("Give the repository a name, e.g. laptop-home");
    expect(errors.fields.compression).not.toMatch(/^Invalid|too small/i);
    expect(errors.fields.compression).toBe(
      fromSchema({ ...repositoryRequestBody(filled), compression: "BAD!" }).fields.compression,
    );
    const noMachine = fromSchema({ ...repositoryRequestBody(filled), agent_machine_id: 0 });
    expect(noMachine.fields.agent_machine_id).toBe(
      "Pick the machine whose data this repository backs up",
    );
  });

  test("the hub's own checks name the field at the start of the message", () => {
    expect(
      fieldErrors({ status: 400, message: 'location must not start with "-"' }).fields,
    ).toEqual({ location: 'must not start with "-"' });
    expect(
      fieldErrors({ status: 400, message: 'archive_name must not contain "/"' }).fields,
    ).toEqual({ archive_name: 'must not contain "/"' });
  });

  test("passphrase rules, a taken name and a revoked machine are put on their fields", () => {
    const missing =
      'encryption "repokey" with passphrase_location "hub" needs a passphrase (or use passphrase_location "agent")';
    expect(fieldErrors({ status: 400, message: missing }).fields.passphrase).toBe(missing);
    expect(fieldErrors({ status: 409, message: 'a repository named "x" exists' }).fields.name).toBe(
      'a repository named "x" exists',
    );
    expect(
      fieldErrors({ status: 409, message: 'machine "laptop" is revoked' }).fields.agent_machine_id,
    ).toBe('machine "laptop" is revoked');
  });

  test("anything else is general, shown above the form", () => {
    expect(fieldErrors({ status: 403, message: "operator role needed" })).toEqual({
      fields: {},
      general: "operator role needed",
    });
    expect(fieldErrors({ status: 400, message: "storage boxes are not available yet" })).toEqual({
      fields: {},
      general: "storage boxes are not available yet",
    });
    // "Store on" is a field of the form now: its refusal is shown beside it.
    expect(
      fieldErrors({ status: 400, message: "bad", details: [{ path: "box_id", message: "no" }] })
        .general,
    ).toBeNull();
    expect(fieldErrors({ status: 400, message: "box_id: no box 9" }).fields).toEqual({
      box_id: "no box 9",
    });
  });
});

describe("retentionRequestBody", () => {
  test("keep rules become numbers, empty ones are left out, dry run as chosen", () => {
    const result = retentionRequestBody({
      counts: { keep_daily: "7", keep_weekly: " 4 ", keep_monthly: "" },
      keep_within: "",
      dry_run: true,
    });
    expect(result).toEqual({
      ok: true,
      body: { dry_run: true, keep_daily: 7, keep_weekly: 4 },
      destructive: false,
    });
    if (result.ok) expect(PruneJobRequest.safeParse(result.body).success).toBe(true);
  });

  test("without a dry run it is destructive, so the page asks first", () => {
    const result = retentionRequestBody({ counts: {}, keep_within: "2w", dry_run: false });
    expect(result).toEqual({
      ok: true,
      body: { dry_run: false, keep_within: "2w" },
      destructive: true,
    });
  });

  test("no keep rule at all is refused: prune would delete every archive", () => {
    const result = retentionRequestBody({
      counts: { keep_daily: " " },
      keep_within: "",
      dry_run: true,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain("at least one keep rule");
  });

  test("counts must be whole numbers and keep within a number with a unit", () => {
    const bad = retentionRequestBody({
      counts: { keep_daily: "-1" },
      keep_within: "",
      dry_run: true,
    });
    expect(bad).toEqual({ ok: false, error: "keep daily must be a whole number (0 or more)" });
    const within = retentionRequestBody({ counts: {}, keep_within: "7 days", dry_run: true });
    expect(within.ok).toBe(false);
    if (!within.ok) expect(within.error).toContain("keep within");
    expect(
      retentionRequestBody({ counts: { keep_yearly: "0" }, keep_within: "", dry_run: true }).ok,
    ).toBe(true);
  });
});

describe("repositoryUpdateBody", () => {
  const stored = {
    name: "laptop-home",
    source_paths: ["/home", "/etc"],
    exclude_patterns: ["*/.cache"],
    compression: "lz4",
    archive_name: "{hostname}-{now}",
  };

  test("the untouched form sends nothing", () => {
    expect(repositoryUpdateBody(stored, editValuesOf(stored), true)).toEqual({});
  });

  test("only the changed fields go, parsed like the create form; the result passes the hub's schema", () => {
    const values = {
      ...editValuesOf(stored),
      source_paths: " /home \n\n/srv/data\r\n",
      compression: " zstd,3 ",
    };
    const body = repositoryUpdateBody(stored, values, true);
    expect(body).toEqual({ source_paths: ["/home", "/srv/data"], compression: "zstd,3" });
    expect(UpdateRepositoryRequest.safeParse(body).success).toBe(true);
  });

  test("reformatting a list (spaces, blank lines) is no change; reordering is", () => {
    const spaced = { ...editValuesOf(stored), source_paths: "  /home\n\n /etc \n" };
    expect(repositoryUpdateBody(stored, spaced, true)).toEqual({});
    const reordered = { ...editValuesOf(stored), source_paths: "/etc\n/home" };
    expect(repositoryUpdateBody(stored, reordered, true)).toEqual({
      source_paths: ["/etc", "/home"],
    });
  });

  test("clearing the excludes sends an empty list; a name change is trimmed", () => {
    const values = { ...editValuesOf(stored), exclude_patterns: "", name: " laptop " };
    expect(repositoryUpdateBody(stored, values, true)).toEqual({
      exclude_patterns: [],
      name: "laptop",
    });
  });

  test("a typed passphrase goes only when the hub stores it", () => {
    const values = { ...editValuesOf(stored), passphrase: "new secret" };
    expect(repositoryUpdateBody(stored, values, true)).toEqual({ passphrase: "new secret" });
    expect(repositoryUpdateBody(stored, values, false)).toEqual({});
  });

  test("an emptied required field is sent for the hub to refuse at that field", () => {
    const values = { ...editValuesOf(stored), source_paths: "\n" };
    const body = repositoryUpdateBody(stored, values, true);
    expect(body).toEqual({ source_paths: [] });
    expect(UpdateRepositoryRequest.safeParse(body).success).toBe(false);
  });
});
