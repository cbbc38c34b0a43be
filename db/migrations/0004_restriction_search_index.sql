-- Substring search of restricted senders within a tenant (`restrictedUsers(filter: { search })`):
-- without it every search, and its totalCount, reads all of the tenant's restrictions. Both
-- extensions are trusted (a database owner may create them) and ship with PostgreSQL and PGlite.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE INDEX "restrictions_search_idx" ON "restrictions" USING gin ("tenant_id","entity_key" gin_trgm_ops);
