/** @jsxImportSource hono/jsx/dom */
/**
 * The "New repository" form's what-to-back-up fields: source paths, optional ones (backed
 * up when the machine has them, skipped with a warning when not), exclude patterns and
 * the archive name template, each with its hint and the hub's complaint in words.
 */
import { describedBy, Field } from "../repository-field.tsx";
import type { FormErrors, RepositoryFormValues } from "../repository-form.ts";

export function WhatToBackUp(props: {
  values: RepositoryFormValues;
  errors: FormErrors;
  set: (key: keyof RepositoryFormValues) => (e: Event) => void;
}) {
  const { values, errors, set } = props;
  return (
    <>
      <Field
        field="source_paths"
        label="Source paths"
        errors={errors}
        hint="One path a line, as the machine sees it."
      >
        <textarea
          id="repo-source_paths"
          name="source_paths"
          rows={3}
          placeholder={"/home\n/etc"}
          value={values.source_paths}
          onInput={set("source_paths")}
          aria-invalid={errors.fields.source_paths ? "true" : undefined}
          aria-describedby={describedBy("source_paths", errors, true)}
        />
      </Field>
      <Field
        field="optional_source_paths"
        label="Optional source paths"
        errors={errors}
        hint="Backed up when the machine has them (a USB disk, a directory not every machine has); a missing one is skipped with a warning instead of failing the backup. Optional."
      >
        <textarea
          id="repo-optional_source_paths"
          name="optional_source_paths"
          rows={2}
          placeholder="/media/usb"
          value={values.optional_source_paths}
          onInput={set("optional_source_paths")}
          aria-invalid={errors.fields.optional_source_paths ? "true" : undefined}
          aria-describedby={describedBy("optional_source_paths", errors, true)}
        />
      </Field>
      <Field
        field="exclude_patterns"
        label="Exclude patterns"
        errors={errors}
        hint={
          <>
            One borg pattern a line, e.g. <code>*/.cache</code>; optional.
          </>
        }
      >
        <textarea
          id="repo-exclude_patterns"
          name="exclude_patterns"
          rows={2}
          value={values.exclude_patterns}
          onInput={set("exclude_patterns")}
          aria-invalid={errors.fields.exclude_patterns ? "true" : undefined}
          aria-describedby={describedBy("exclude_patterns", errors, true)}
        />
      </Field>
      <Field
        field="archive_name"
        label="Archive name template"
        errors={errors}
        hint={
          <>
            borg placeholders work: <code>{"{hostname}"}</code>, <code>{"{now}"}</code>,{" "}
            <code>{"{user}"}</code>.
          </>
        }
      >
        <input
          id="repo-archive_name"
          name="archive_name"
          value={values.archive_name}
          onInput={set("archive_name")}
          aria-invalid={errors.fields.archive_name ? "true" : undefined}
          aria-describedby={describedBy("archive_name", errors, true)}
        />
      </Field>
    </>
  );
}
