/** `borgctl agent once`: poll once, run at most one job. */
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent once",
    description: "Poll once, run at most one job, exit with its outcome (for debugging)",
  },
  args: {
    wait: {
      type: "string",
      valueHint: "seconds",
      description: "How long to wait for a job (default 5)",
    },
    ...common,
  },
  async run({ args }) {
    const e = env(args);
    const wait = args.wait === undefined ? 5 : Number(args.wait);
    if (!Number.isInteger(wait) || wait < 0 || wait > 30)
      throw new UsageError("--wait must be 0 to 30 seconds");
    const { loadAgent, createRuntime } = await import("../../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    // On a terminal, a live progress line; never in JSON mode or when piped.
    const live = Boolean(process.stderr.isTTY) && !args.json;
    const { progressLine } = await import("../../progress-line.ts");
    const runtime = await createRuntime(agent, e, {
      onProgress: live
        ? (_id, p) =>
            process.stderr.write(`\r\x1b[2K${progressLine(p, (process.stderr.columns ?? 100) - 1)}`)
        : undefined,
    });
    const outcome = await guarded(() => runtime.once(wait));
    if (live) process.stderr.write("\n");
    if (!outcome) {
      print(args.json, { job: null }, "No job was waiting.");
      return;
    }
    print(
      args.json,
      outcome,
      `Job finished: ${outcome.kind}${outcome.kind === "fail" ? ` (${outcome.body.error_message})` : ""}`,
    );
    if (outcome.kind !== "complete") process.exitCode = 1;
  },
});
