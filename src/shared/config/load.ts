/**
 * One loader for every role's configuration. Sources, lowest to highest precedence:
 * defaults (in the schema) < TOML file < environment < command-line flags.
 *
 * Secrets can come from a file instead of a value, so they stay out of argv, shell
 * history and `ps`: `<key>_file` in TOML, `<ENV>_FILE` in the environment, or any value
 * starting with "@" (as borgbox's BORGBOX_TOKEN=@/path). Every problem is collected and
 * reported together, each with its key and where the bad value came from.
 */
import { readFile } from "node:fs/promises";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly role: string,
    readonly issues: readonly string[],
  ) {
    super(
      `invalid configuration for borgctl ${role}:\n${issues.map((i) => `  - ${i}`).join("\n")}`,
    );
  }
}

export interface ConfigField {
  /** Key in the TOML file and in the parsed config (snake_case). */
  key: string;
  /** Environment variable, e.g. BORGBOX_TOKEN. */
  env?: string;
  /** Flag name in the command's parsed args, e.g. "repo-root". */
  flag?: string;
  /** Accepts "@path", `<key>_file` and `<ENV>_FILE`. */
  secret?: boolean;
}

export interface ConfigInput {
  role: string;
  /** TOML file; a missing file is an error only when `required` (it was named explicitly). */
  file?: { path: string; required: boolean };
  env: Record<string, string | undefined>;
  flags: Record<string, unknown>;
}

type Origin = string;

async function readSecretFile(path: string): Promise<string> {
  const text = await readFile(path, "utf8");
  // Files written by `echo` or editors end in a newline that is not part of the secret.
  return text.replace(/\r?\n$/, "");
}

async function readTomlFile(
  file: NonNullable<ConfigInput["file"]>,
  issues: string[],
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file.path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !file.required) return {};
    issues.push(`cannot read config file ${file.path}: ${code ?? String(error)}`);
    return {};
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    issues.push(
      `config file ${file.path} is not valid TOML: ${(error as Error).message.split("\n")[0]}`,
    );
    return {};
  }
}

export async function loadConfig<S extends z.ZodType>(
  schema: S,
  fields: readonly ConfigField[],
  input: ConfigInput,
): Promise<z.infer<S>> {
  const issues: string[] = [];
  const values: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  const fromFile = input.file ? await readTomlFile(input.file, issues) : {};
  const fileLabel = input.file ? `config file ${input.file.path}` : "config file";

  for (const [key, value] of Object.entries(fromFile)) {
    values[key] = value;
    origins[key] = fileLabel;
  }

  for (const field of fields) {
    const { key } = field;
    const resolveSecret = async (raw: unknown, origin: Origin, isPath = false) => {
      if (typeof raw !== "string") return raw;
      const path = isPath ? raw : raw.startsWith("@") ? raw.slice(1) : undefined;
      if (path === undefined) return raw;
      try {
        return await readSecretFile(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        issues.push(`${key}: cannot read secret file ${path} (${code}) (from ${origin})`);
        return undefined;
      }
    };
    const set = async (raw: unknown, origin: Origin, isPath = false) => {
      values[key] = field.secret ? await resolveSecret(raw, origin, isPath) : raw;
      origins[key] = origin;
    };

    if (field.secret) {
      const fileKey = `${key}_file`;
      if (fileKey in values) {
        const path = values[fileKey];
        delete values[fileKey];
        await set(path, `${fileLabel} (${fileKey})`, true);
      } else if (key in values) {
        await set(values[key], fileLabel);
      }
    }
    if (field.env) {
      const fromEnv = input.env[field.env];
      const fromEnvFile = field.secret ? input.env[`${field.env}_FILE`] : undefined;
      if (fromEnv !== undefined && fromEnv !== "") await set(fromEnv, `env ${field.env}`);
      else if (fromEnvFile) await set(fromEnvFile, `env ${field.env}_FILE`, true);
    }
    if (field.flag) {
      const fromFlag = input.flags[field.flag];
      if (fromFlag !== undefined && fromFlag !== "") await set(fromFlag, `flag --${field.flag}`);
    }
  }

  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".");
      const top = String(issue.path[0] ?? "");
      const origin = origins[top];
      if (issue.code === "unrecognized_keys") {
        for (const unknown of issue.keys) {
          issues.push(`${unknown}: unknown setting (from ${fileLabel})`);
        }
        continue;
      }
      issues.push(`${path || "(root)"}: ${issue.message}${origin ? ` (from ${origin})` : ""}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(input.role, issues);
  return (parsed as { data: z.infer<S> }).data;
}
