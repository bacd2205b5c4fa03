/** `borgctl agent run`: the long-lived loop. */
import { defineCommand } from "citty";
import { EXIT_REVOKED, UserError } from "../../errors.ts";
import { common, configPath, agentEnv as env, guarded } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent run",
    description:
      "Run the agent: heartbeat, poll for jobs, run borg (long-lived; stops on SIGTERM/SIGINT)",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, createRuntime } = await import("../../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const runtime = await createRuntime(agent, e);
    const stop = new AbortController();
    const onSignal = (signal: string) => {
      e.logger.info(`received ${signal}: no new jobs; a running job gets a grace period`);
      stop.abort();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    e.logger.info(`agent ${agent.config.agent_id} running`, { hub: agent.config.server_url });
    const outcome = await runtime.run(stop.signal);
    if (outcome.stopped === "revoked") throw new UserError(outcome.message, EXIT_REVOKED);
    e.logger.info("stopped");
  },
});
