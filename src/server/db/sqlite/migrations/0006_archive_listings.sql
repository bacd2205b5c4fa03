CREATE TABLE `archive_listing_entries` (
	`listing_id` integer NOT NULL,
	`parent` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`size` integer NOT NULL,
	`mtime` text,
	`mode` text,
	PRIMARY KEY(`listing_id`, `parent`, `name`),
	FOREIGN KEY (`listing_id`) REFERENCES `archive_listings`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `archive_listings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`repository_id` integer NOT NULL,
	`archive` text NOT NULL,
	`job_id` integer NOT NULL,
	`status` text NOT NULL,
	`entry_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	FOREIGN KEY (`repository_id`) REFERENCES `repositories`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "archive_listings_status_check" CHECK("archive_listings"."status" IN ('building', 'ready'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `archive_listings_job_idx` ON `archive_listings` (`job_id`);--> statement-breakpoint
CREATE INDEX `archive_listings_archive_idx` ON `archive_listings` (`repository_id`,`archive`);