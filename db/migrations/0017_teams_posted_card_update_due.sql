-- A posted notice owes an update (released, expired, extended) until Teams took it: kept here so
-- an update Teams refused for a while is retried, from any bot process, after a restart too.
ALTER TABLE "teams_posted_cards" ADD COLUMN "update_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "teams_posted_cards" ADD COLUMN "update_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "teams_posted_cards_update_due_idx" ON "teams_posted_cards" USING btree ("update_due_at");