/** repo.break_lock: `borg break-lock`, removing a stale lock. No block, no result fields. */
import { defineJobKind } from "./common.ts";

export const repoBreakLock = defineJobKind("repo.break_lock", {}, {});
