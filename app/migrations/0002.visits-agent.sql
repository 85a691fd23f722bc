-- phase: expand
-- transactional: false
-- Release 2 records the user agent instead of the client; the column is nullable, so release 1
-- keeps inserting without it. The index is built concurrently: writes go on meanwhile (which is
-- why this migration runs outside a transaction). A build that failed halfway leaves an invalid
-- index behind, so a new attempt drops it first (this migration runs until it succeeds, once).
ALTER TABLE visits ADD COLUMN IF NOT EXISTS agent text;
DROP INDEX CONCURRENTLY IF EXISTS visits_agent;
CREATE INDEX CONCURRENTLY visits_agent ON visits (agent);
