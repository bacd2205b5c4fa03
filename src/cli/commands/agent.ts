/** `borgctl agent …`: the per-machine agent. Its issue has not landed yet. */
import { type ArgsDef, defineCommand } from "citty";
import { configArg } from "../args.ts";
import { notBuiltYet } from "../errors.ts";

const placeholder = (name: string, description: string, args: ArgsDef = {}) =>
  defineCommand({
    meta: { name: `borgctl agent ${name}`, description },
    args: { ...configArg, ...args },
    run() {
      notBuiltYet(`agent ${name}`);
    },
  });

export default defineCommand({
  meta: {
    name: "borgctl agent",
    description: "Enroll this machine with a hub and run its backup jobs",
  },
  subCommands: {
    register: placeholder("register", "Enroll this machine with a hub using an enrollment token", {
      server: { type: "string", valueHint: "url", description: "The hub's URL" },
      token: {
        type: "string",
        valueHint: "borgctl_enroll_…",
        description: "Enrollment token (one use)",
      },
      name: { type: "string", description: "Name to show in the hub (default: hostname)" },
    }),
    status: placeholder("status", "Show this agent's identity, hub reachability and borg binaries"),
    run: placeholder("run", "Run the agent: heartbeat, poll for jobs, run borg (long-lived)"),
    once: placeholder("once", "Poll once, run at most one job, exit with its outcome"),
    unregister: placeholder(
      "unregister",
      "Tell the hub to forget this agent, then remove local credentials",
    ),
  },
});
