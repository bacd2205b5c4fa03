/** Placeholder: filled in by the issue that builds these routes. */
import type { Hono } from "hono";
import type { HubDeps } from "../../deps.ts";
import type { HubEnv } from "../context.ts";

export function machineRoutes(_app: Hono<HubEnv>, _deps: HubDeps): void {}
