CREATE TABLE `lent_box_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`box_id` integer NOT NULL,
	`repo_name` text NOT NULL,
	`tag` text NOT NULL,
	`job_id` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`box_id`) REFERENCES `boxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lent_box_keys_line_idx` ON `lent_box_keys` (`box_id`,`repo_name`,`tag`);--> statement-breakpoint
CREATE INDEX `lent_box_keys_job_idx` ON `lent_box_keys` (`job_id`);