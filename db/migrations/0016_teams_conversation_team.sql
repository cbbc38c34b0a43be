-- A channel's conversation keeps its team, so removing the bot from the team (or deleting or
-- archiving the team) forgets every channel of it, not only the General channel Teams names.
ALTER TABLE "teams_conversations" ADD COLUMN "team_id" text;--> statement-breakpoint
CREATE INDEX "teams_conversations_team_idx" ON "teams_conversations" USING btree ("tenant_id","team_id");