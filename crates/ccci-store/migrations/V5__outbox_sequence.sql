-- The outbox's order is the store's own: a counter every host draws from in the database,
-- instead of the pushing host's wall clock (several hosts share a store, and their clocks
-- differ). It starts after the last order the clock gave, so earlier calls keep theirs.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) SELECT 'outbox', COALESCE(MAX(seq), 0) FROM outbox;
