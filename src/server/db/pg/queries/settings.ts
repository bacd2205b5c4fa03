/** Hub-wide settings on PostgreSQL (SettingsStore): one row per key, written once. */
import { eq } from "drizzle-orm";
import type { SettingsStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { hubSettings } from "../schema.ts";

export function settingsQueries(db: Db): SettingsStore {
  const get = async (key: string) => {
    const [row] = await db
      .select({ value: hubSettings.value })
      .from(hubSettings)
      .where(eq(hubSettings.key, key));
    return row?.value;
  };
  return {
    get,
    async putIfAbsent(key, value, now) {
      await db
        .insert(hubSettings)
        .values({ key, value, createdAt: now })
        .onConflictDoNothing({ target: hubSettings.key });
      // A replica that lost the race reads the winner's value.
      const stored = await get(key);
      if (stored === undefined) throw new Error(`setting ${key} was not stored`);
      return stored;
    },
  };
}
