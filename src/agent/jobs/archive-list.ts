/**
 * archive.list on the agent: `borg list --json` (rlist / repo-list on 2.x) → the archive
 * list. Output that can't be read fails the job; it is never reported as no archives,
 * which the hub would store over the repository's real list.
 */
import { buildListCommand } from "../../borg/commands/list.ts";
import { BorgListResult, readJsonResult } from "../../borg/output.ts";
import type { ArchiveInfo } from "../../shared/protocol/agent.ts";
import type { AgentJobKind } from "./kind.ts";

const ARCHIVE_FIELDS = ["start", "time", "hostname", "username", "comment"] as const;

export const archiveList: AgentJobKind<"archive.list"> = {
  readsJson: true,

  command: (features, { repository }) => buildListCommand(features, { repo: repository.location }),

  result(run) {
    const read = readJsonResult(BorgListResult, run);
    if (!read.ok) return read;
    // Only what the protocol carries: borg's other keys (end, barchive, …) stay here.
    const archives = read.data.archives.map((archive) => {
      const info: ArchiveInfo = { id: archive.id, name: archive.name };
      for (const field of ARCHIVE_FIELDS) {
        const value = archive[field];
        if (value !== undefined) info[field] = value;
      }
      return info;
    });
    return { ok: true, fields: { archives } };
  },
};
