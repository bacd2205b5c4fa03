/** repo.compact on the agent: `borg compact`. */
import { buildCompactCommand } from "../../borg/commands/compact.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoCompact: AgentJobKind<"repo.compact"> = {
  readsJson: false,
  command: (features, { repository }) =>
    buildCompactCommand(features, { repo: repository.location }),
  result: () => ({ ok: true, fields: {} }),
};
