/** repo.compact: `borg compact`, freeing the space of deleted archives. No block, no result fields. */
import { defineJobKind } from "./common.ts";

export const repoCompact = defineJobKind("repo.compact", {}, {});
