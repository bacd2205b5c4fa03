/** `borgctl agent status`: identity, hub reachability, borg binaries, running job. */
import { defineCommand } from "citty";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent status",
    description: "Show this agent's identity, hub reachability, borg binaries and running job",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, hubReachable } = await import("../../../agent/start.ts");
    const { findBorgBinaries } = await import("../../../agent/borg-binaries.ts");
    const { readFile } = await import("node:fs/promises");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const [hub, borgs, current] = await Promise.all([
      hubReachable(agent.config.server_url),
      findBorgBinaries(process.env.PATH),
      readFile(agent.paths.currentJobFile, "utf8").then(
        (t) => JSON.parse(t).job_id as number,
        () => null,
      ),
    ]);
    const value = {
      server_url: agent.config.server_url,
      agent_id: agent.config.agent_id,
      config: agent.configPath,
      state_dir: agent.paths.stateDir,
      hub_reachable: hub.ok,
      hub_version: hub.version ?? null,
      borg: borgs.map((b) => ({ version: b.version.raw, path: b.path })),
      running_job_id: current,
    };
    print(
      args.json,
      value,
      [
        `agent       ${value.agent_id}`,
        `hub         ${value.server_url} (${hub.ok ? `reachable, version ${hub.version}` : `NOT reachable: ${hub.error}`})`,
        `config      ${value.config}`,
        `state       ${value.state_dir}`,
        `borg        ${value.borg.map((b) => `${b.version} (${b.path})`).join(", ") || "none found"}`,
        `running job ${current ?? "none"}`,
      ].join("\n"),
    );
    if (!hub.ok) process.exitCode = 1;
  },
});
