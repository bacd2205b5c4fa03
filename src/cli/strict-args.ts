/**
 * citty accepts any flag and silently drops what it does not know. For a backup tool a
 * typo like `--repo-rot` must stop the command, so this checks the raw tokens of one
 * command level against its argument definitions before citty runs it.
 */
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "./errors.ts";

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function findDef(args: ArgsDef, name: string): [string, ArgDef] | undefined {
  for (const [key, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    if (key === name || kebab(key) === name || aliases.includes(name)) return [key, def];
  }
  return undefined;
}

export interface StrictCheck {
  /** e.g. "borgctl box", used in messages. */
  commandPath: string;
  args: ArgsDef;
  /** Tokens for this level only (the subcommand name and what follows are not included). */
  tokens: readonly string[];
  /** Whether the command has subcommands: then one positional (the subcommand) ends this level. */
  hasSubcommands: boolean;
}

/** Throws UsageError naming the fix for the first bad token. */
export function checkArgs({ commandPath, args, tokens, hasSubcommands }: StrictCheck): void {
  const help = `Run "${commandPath} --help" to see what it accepts.`;
  const positionals = Object.values(args).filter((d) => d.type === "positional").length;
  let seenPositionals = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "--") return;
    if (!token.startsWith("-") || token === "-") {
      seenPositionals++;
      if (seenPositionals > positionals && !hasSubcommands) {
        throw new UsageError(`Unexpected argument "${token}" for ${commandPath}. ${help}`);
      }
      continue;
    }
    const body = token.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const rawName = eq === -1 ? body : body.slice(0, eq);
    const inlineValue = eq === -1 ? undefined : body.slice(eq + 1);
    const negated = rawName.startsWith("no-") ? rawName.slice(3) : undefined;
    const found = findDef(args, rawName) ?? (negated ? findDef(args, negated) : undefined);
    if (!found) throw new UsageError(`Unknown option "--${rawName}" for ${commandPath}. ${help}`);
    const [key, def] = found;
    const flag = `--${kebab(key)}`;
    if (def.type === "boolean") {
      if (inlineValue !== undefined && !["true", "false"].includes(inlineValue)) {
        throw new UsageError(`Option ${flag} is a switch: use ${flag} or --no-${kebab(key)}.`);
      }
      continue;
    }
    if (negated && findDef(args, rawName) === undefined) {
      throw new UsageError(`Option ${flag} takes a value; "--${rawName}" is not an option.`);
    }
    let value = inlineValue;
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new UsageError(
          `Option ${flag} needs a value: ${flag} <${def.valueHint ?? kebab(key)}>.`,
        );
      }
      value = next;
      i++;
    }
    if (def.type === "enum" && def.options && !def.options.includes(value)) {
      throw new UsageError(
        `Option ${flag} must be one of ${def.options.join(", ")} (got "${value}").`,
      );
    }
  }
}
