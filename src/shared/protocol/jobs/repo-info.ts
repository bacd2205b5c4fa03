/**
 * repo.info: repository `borg info --json` (`rinfo`/`repo-info` in 2.x). The agent checks
 * that borg's output is readable; nothing of it is reported yet.
 */
import { defineJobKind } from "./common.ts";

export const repoInfo = defineJobKind("repo.info", {}, {});
