-- When each posted notice's state was read, so a bot start brings up to date only the notices
-- whose restriction changed since, not every notice of the last day.
ALTER TABLE "teams_posted_cards" ADD COLUMN "shown_at" timestamp with time zone;