ALTER TABLE `plans` ADD `last_compact_at` integer;--> statement-breakpoint
ALTER TABLE `plans` ADD `last_check_at` integer;