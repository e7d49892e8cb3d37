-- Whose fault a red run is (`recipe`, `host` or `cancelled`, from results.json's `cause`),
-- so that the dashboard and the service tell a host fault from a recipe failure; and, for a
-- job queued again after a host fault, the job it retries (both attempts are kept).
ALTER TABLE runs ADD COLUMN cause TEXT;
ALTER TABLE jobs ADD COLUMN retry_of TEXT;
