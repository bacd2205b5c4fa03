CREATE TABLE `boxes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`token_encrypted` text NOT NULL,
	`ssh_host` text NOT NULL,
	`ssh_port` integer NOT NULL,
	`ssh_user` text NOT NULL,
	`status` text NOT NULL,
	`last_seen_at` integer,
	`last_error` text,
	`version` text,
	`borg_version` text,
	`free_bytes` integer,
	`total_bytes` integer,
	`repo_count` integer,
	`ssh_host_keys` text DEFAULT '[]' NOT NULL,
	`repos` text DEFAULT '[]' NOT NULL,
	`repos_listed_at` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `boxes_name_unique` ON `boxes` (`name`);