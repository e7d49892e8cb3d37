-- A push to a pull request supersedes the runs of its older heads: a queued one is
-- `cancelled` at once, a running one is asked to stop by the head that superseded it (its
-- host's runner sees it and stops the run, which tears down).
ALTER TABLE jobs ADD COLUMN superseded_by TEXT;
