/** `borgctl agent unregister`: leave the hub and remove the local credential (and, with --purge, the state). */
import { defineCommand } from "citty";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent unregister",
    description:
      "Tell the hub to forget this agent, then remove the local credential (--purge: also the state dir)",
  },
  args: {
    ...common,
    purge: {
      type: "boolean",
      description:
        "Also remove the state dir: the SSH key, known_hosts, borg's cache and any passphrases kept with 'agent secret set' (they may be their only copy)",
    },
  },
  async run({ args }) {
    const e = env(args);
    const { loadAgent, unregisterAgent } = await import("../../../agent/start.ts");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const outcome = await unregisterAgent(agent, { purge: args.purge === true });
    const hub = outcome.hubInformed
      ? "Unregistered: the hub revoked this agent and the local credential is removed."
      : `Local credential removed, but the hub could not be told (${outcome.reason}); revoke the machine in the hub.`;
    const state = outcome.purged
      ? `The state dir ${outcome.stateDir} is removed.`
      : `The state dir ${outcome.stateDir} is kept: it holds this machine's SSH key, borg's cache and any passphrases kept with 'agent secret set'. Remove it with 'borgctl agent unregister --purge' next time, or 'rm -r ${outcome.stateDir}' once you no longer need them.`;
    print(
      args.json,
      {
        unregistered: true,
        hub_informed: outcome.hubInformed,
        state_dir: outcome.stateDir,
        state_removed: outcome.purged,
      },
      `${hub}\n${state}`,
    );
  },
});
