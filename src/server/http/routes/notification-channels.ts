/**
 * /api/notification-channels (admin only, API.md Notifications): channel CRUD, "send
 * test" (POST /{id}/test → 202 {delivery_id}, delivered by the outbox sender like any
 * notification) and the delivery log (GET /{id}/deliveries, newest first). Channels hold
 * credentials for other systems and decide where fleet facts go, so even reading them
 * is an admin's; answers never carry a secret ("set" in its place).
 */
import type { Hono } from "hono";
import {
  CreateNotificationChannelRequest,
  DeliveryListQuery,
  UpdateNotificationChannelRequest,
} from "../../../shared/protocol/api.ts";
import type { HubDeps } from "../../deps.ts";
import {
  channelJson,
  createChannel,
  deleteChannel,
  deliveryJson,
  getChannel,
  listChannels,
  listDeliveries,
  testChannel,
  updateChannel,
} from "../../services/notification-channels.ts";
import { actorOf } from "../actor.ts";
import { requireUser } from "../auth.ts";
import type { HubEnv } from "../context.ts";
import { idParam, validate } from "../validate.ts";

const BASE = "/api/notification-channels";

export function notificationChannelRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  const admin = requireUser(deps, "admin");
  const channelId = (value: string | undefined) => idParam(value, "notification channel");

  app.get(BASE, admin, async (c) =>
    c.json((await listChannels(deps)).map((row) => channelJson(deps, row))),
  );

  app.post(BASE, admin, validate("json", CreateNotificationChannelRequest), async (c) =>
    c.json(channelJson(deps, await createChannel(deps, actorOf(c), c.req.valid("json"))), 201),
  );

  app.get(`${BASE}/:id`, admin, async (c) =>
    c.json(channelJson(deps, await getChannel(deps, channelId(c.req.param("id"))))),
  );

  app.patch(`${BASE}/:id`, admin, validate("json", UpdateNotificationChannelRequest), async (c) =>
    c.json(
      channelJson(
        deps,
        await updateChannel(deps, actorOf(c), channelId(c.req.param("id")), c.req.valid("json")),
      ),
    ),
  );

  app.delete(`${BASE}/:id`, admin, async (c) => {
    await deleteChannel(deps, actorOf(c), channelId(c.req.param("id")));
    return c.body(null, 204);
  });

  app.post(`${BASE}/:id/test`, admin, async (c) =>
    c.json({ delivery_id: await testChannel(deps, actorOf(c), channelId(c.req.param("id"))) }, 202),
  );

  app.get(`${BASE}/:id/deliveries`, admin, validate("query", DeliveryListQuery), async (c) => {
    const rows = await listDeliveries(deps, channelId(c.req.param("id")), c.req.valid("query"));
    return c.json(rows.map(deliveryJson));
  });
}
