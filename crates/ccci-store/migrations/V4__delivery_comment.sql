-- A `!testme` comment is taken in once, whatever delivery carries it: a signed body replayed
-- under a new delivery id (the signature covers the body, not the id) names the same comment.
ALTER TABLE deliveries ADD COLUMN comment_id BIGINT;
CREATE UNIQUE INDEX deliveries_one_per_comment ON deliveries (repo, comment_id)
    WHERE comment_id IS NOT NULL;
