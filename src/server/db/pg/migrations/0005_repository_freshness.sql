ALTER TABLE "repositories" ADD COLUMN "expected_interval_seconds" integer;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "overdue_factor" double precision DEFAULT 1.5 NOT NULL;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "failures_since_success" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "overdue_since" bigint;