/** Hub-wide settings on SQLite (SettingsStore): one row per key, written once. */
import { eq } from "drizzle-orm";
import type { SettingsStore } from "../../store.ts";
import type { Db } from "../client.ts";
import { hubSettings } from "../schema.ts";

export function settingsQueries(db: Db): SettingsStore {
  const get = (key: string) =>
    db.select({ value: hubSettings.value }).from(hubSettings).where(eq(hubSettings.key, key)).get()
      ?.value;
  return {
    async get(key) {
      return get(key);
    },
    async putIfAbsent(key, value, now) {
      db.insert(hubSettings)
        .values({ key, value, createdAt: now })
        .onConflictDoNothing({ target: hubSettings.key })
        .run();
      const stored = get(key);
      if (stored === undefined) throw new Error(`setting ${key} was not stored`);
      return stored;
    },
  };
}
