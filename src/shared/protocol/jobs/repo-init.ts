/** repo.init: `borg init` (`rcreate`/`repo-create` in 2.x) with the repository's encryption. */
import { z } from "zod";
import { defineJobKind } from "./common.ts";

export const InitBlock = z.object({ encryption: z.string() });
export type InitBlock = z.infer<typeof InitBlock>;

export const repoInit = defineJobKind("repo.init", { init: InitBlock }, {});
