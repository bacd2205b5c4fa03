/** `borgctl agent unregister`: leave the hub and remove the local credential. */
import { defineCommand } from "citty";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent unregister",
    description: "Tell the hub to forget this agent, then remove the local credential",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, unregisterAgent } = await import("../../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const outcome = await unregisterAgent(agent);
    print(
      args.json,
      { unregistered: true, hub_informed: outcome.hubInformed },
      outcome.hubInformed
        ? "Unregistered: the hub revoked this agent and the local credential is removed."
        : `Local credential removed, but the hub could not be told (${outcome.reason}); revoke the machine in the hub.`,
    );
  },
});
