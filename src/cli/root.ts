/**
 * The root command and the runner around citty. Subcommands load lazily so `--help` and
 * `--version` never pay for the hub's or the box's imports.
 *
 * The runner walks the command tree itself, checks every level's flags strictly
 * (strict-args.ts), answers --help/--version, and maps errors to exit codes:
 * 0 ok, 1 failure while running, 2 bad usage or bad configuration.
 */
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { buildInfo, versionLine } from "../shared/build-info.ts";
import { ConfigError } from "../shared/config/load.ts";
import { colorWanted } from "../shared/log.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError, UserError } from "./errors.ts";
import { checkArgs, findDef } from "./strict-args.ts";

type AnyCommand = CommandDef<ArgsDef>;

export const rootCommand = defineCommand({
  meta: {
    name: "borgctl",
    version: buildInfo().version,
    description:
      "Run BorgBackup across a fleet of machines: hub, agent and storage box in one binary",
  },
  args: {
    version: { type: "boolean", alias: "v", description: "Print the version and exit" },
  },
  subCommands: {
    server: () => import("./commands/server.ts").then((m) => m.default as AnyCommand),
    agent: () => import("./commands/agent/index.ts").then((m) => m.default as AnyCommand),
    box: () => import("./commands/box.ts").then((m) => m.default as AnyCommand),
    version: () => import("./commands/version.ts").then((m) => m.default as AnyCommand),
  },
});

const HELP_FLAGS = new Set(["--help", "-h"]);

async function resolve<T>(value: T | Promise<T> | (() => T | Promise<T>) | undefined) {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Index of the first token that is not a flag or a flag's value, or -1. */
function firstPositional(tokens: readonly string[], args: ArgsDef): number {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "--") return -1;
    if (!token.startsWith("-")) return i;
    const def = findDef(args, token.replace(/^--?/, ""))?.[1];
    if (!token.includes("=") && def && (def.type === "string" || def.type === "enum")) i++;
  }
  return -1;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC.
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
}

async function usage(cmd: AnyCommand, io: Io): Promise<string> {
  const text = await renderUsage(cmd);
  return io.color ? text : stripAnsi(text);
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  let cmd: AnyCommand = rootCommand as AnyCommand;
  let path = "borgctl";
  let tokens = argv;
  for (;;) {
    const args = ((await resolve(cmd.args)) ?? {}) as ArgsDef;
    const subCommands = await resolve(cmd.subCommands);
    const hasSubcommands = subCommands !== undefined && Object.keys(subCommands).length > 0;
    const subIndex = hasSubcommands ? firstPositional(tokens, args) : -1;
    const levelTokens = subIndex === -1 ? tokens : tokens.slice(0, subIndex);
    const beforeDashDash = levelTokens.slice(
      0,
      levelTokens.includes("--") ? levelTokens.indexOf("--") : undefined,
    );
    if (beforeDashDash.some((t) => HELP_FLAGS.has(t))) {
      io.out(await usage(cmd, io));
      return 0;
    }
    checkArgs({ commandPath: path, args, tokens: levelTokens, hasSubcommands });
    if (!hasSubcommands) {
      await runCommand(cmd, { rawArgs: [...tokens] });
      return 0;
    }
    if (subIndex === -1) {
      // A command that runs by itself and also has subcommands (e.g. `box` and `box service`).
      if (cmd.run) {
        await runCommand({ ...cmd, subCommands: undefined }, { rawArgs: [...tokens] });
        return 0;
      }
      if (cmd === rootCommand && levelTokens.some((t) => t === "--version" || t === "-v")) {
        io.out(versionLine());
        return 0;
      }
      if (levelTokens.length === 0 && cmd === rootCommand) {
        io.out(await usage(cmd, io));
        return 0;
      }
      io.err(await usage(cmd, io));
      throw new UsageError(
        `${path} needs a command: one of ${Object.keys(subCommands).join(", ")}.`,
      );
    }
    const name = tokens[subIndex] as string;
    const next = subCommands[name];
    if (next === undefined) {
      throw new UsageError(
        `Unknown command "${name}" for ${path}. Run "${path} --help" to see the commands.`,
      );
    }
    cmd = (await resolve(next)) as AnyCommand;
    path = `${path} ${name}`;
    tokens = tokens.slice(subIndex + 1);
  }
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    color: colorWanted(env, Boolean(process.stdout.isTTY)),
  };
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof UserError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    // citty's own argument errors (e.g. a missing required positional).
    if (error instanceof Error && error.name === "CLIError") {
      io.err(`error: ${stripAnsi(error.message)}`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`error: ${message}`);
    if (env.BORGCTL_DEBUG && error instanceof Error && error.stack) io.err(error.stack);
    return EXIT_FAILURE;
  }
}
