/** repo.break_lock on the agent: `borg break-lock`. */
import { buildBreakLockCommand } from "../../borg/commands/break-lock.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoBreakLock: AgentJobKind<"repo.break_lock"> = {
  readsJson: false,
  command: (features, { repository }) =>
    buildBreakLockCommand(features, { repo: repository.location }),
  result: () => ({ ok: true, fields: {} }),
};
