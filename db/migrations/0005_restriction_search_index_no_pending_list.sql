-- Without a pending list (fastupdate) on the search index: every search scanned the pending entries
-- until a vacuum merged them. Restrictions arrive one at a time, so they go straight into the index;
-- entries already pending are merged now.
ALTER INDEX "restrictions_search_idx" SET (fastupdate = off);--> statement-breakpoint
SELECT gin_clean_pending_list('restrictions_search_idx'::regclass);
