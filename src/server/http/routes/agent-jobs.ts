/** Placeholder: the agent runtime's job routes (poll, claim, start, progress, logs, results). */
import type { Hono } from "hono";
import type { HubDeps } from "../../deps.ts";
import type { HubEnv } from "../context.ts";

export function agentJobRoutes(_app: Hono<HubEnv>, _deps: HubDeps): void {}
