import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { UsageError } from "../../../src/cli/errors.ts";
import { checkArgs } from "../../../src/cli/strict-args.ts";

const args = {
  token: { type: "string" },
  "repo-root": { type: "string" },
  json: { type: "boolean" },
  level: { type: "enum", options: ["a", "b"] },
  file: { type: "positional", required: false },
} satisfies ArgsDef;

const check = (tokens: string[], hasSubcommands = false) =>
  checkArgs({ commandPath: "borgctl x", args, tokens, hasSubcommands });

function usageMessage(tokens: string[]): string {
  try {
    check(tokens);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error(`expected ${tokens.join(" ")} to be refused`);
}

describe("checkArgs", () => {
  test("accepts known flags in every spelling", () => {
    expect(() =>
      check([
        "--token",
        "t",
        "--repo-root=/r",
        "--json",
        "--no-json",
        "--level",
        "b",
        "f.txt",
        "--",
        "--anything",
      ]),
    ).not.toThrow();
  });

  test("unknown flag names the command and the help", () => {
    expect(usageMessage(["--tokne", "t"])).toBe(
      'Unknown option "--tokne" for borgctl x. Run "borgctl x --help" to see what it accepts.',
    );
  });

  test("a value flag without a value says how to give one", () => {
    expect(usageMessage(["--token"])).toContain("Option --token needs a value");
    expect(usageMessage(["--token", "--json"])).toContain("Option --token needs a value");
  });

  test("enum values and boolean values are checked", () => {
    expect(usageMessage(["--level", "c"])).toBe('Option --level must be one of a, b (got "c").');
    expect(usageMessage(["--json=maybe"])).toContain("is a switch");
  });

  test("extra positionals are refused unless they name a subcommand", () => {
    expect(usageMessage(["a.txt", "b.txt"])).toContain('Unexpected argument "b.txt"');
    expect(() => check(["a", "b"], true)).not.toThrow();
  });
});
