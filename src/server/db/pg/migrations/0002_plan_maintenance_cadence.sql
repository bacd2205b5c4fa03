ALTER TABLE "plans" ADD COLUMN "last_compact_at" bigint;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "last_check_at" bigint;