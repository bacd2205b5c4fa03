ALTER TABLE `repositories` ADD `expected_interval_seconds` integer;--> statement-breakpoint
ALTER TABLE `repositories` ADD `overdue_factor` real DEFAULT 1.5 NOT NULL;--> statement-breakpoint
ALTER TABLE `repositories` ADD `failures_since_success` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `repositories` ADD `overdue_since` integer;