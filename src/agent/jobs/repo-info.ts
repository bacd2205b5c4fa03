/**
 * repo.info on the agent: repository `borg info --json` (rinfo / repo-info on 2.x). Its
 * output is checked to be what borg prints (else the job fails like any unreadable
 * result); nothing of it is reported yet.
 */
import { buildInfoCommand } from "../../borg/commands/info.ts";
import { BorgInfoResult, readJsonResult } from "../../borg/output.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoInfo: AgentJobKind<"repo.info"> = {
  readsJson: true,

  command: (features, { repository }) => buildInfoCommand(features, { repo: repository.location }),

  result(run) {
    const read = readJsonResult(BorgInfoResult, run);
    return read.ok ? { ok: true, fields: {} } : read;
  },
};
