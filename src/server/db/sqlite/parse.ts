/** Moved to ../parse.ts (both stores read rows through it); kept for existing importers. */
export * from "../parse.ts";
