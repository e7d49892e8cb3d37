-- The run store's first schema. Written once for both SQLite and PostgreSQL: TEXT, BIGINT
-- and DOUBLE PRECISION only, no database-specific types; times are seconds since the Unix
-- epoch (UTC).

-- One row per run: what it is and where it stands (small, for lists; its results.json is kept
-- apart, in `results`).
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    recipe TEXT NOT NULL,
    -- The ref as asked for (a tag, branch, commit, or HEAD).
    reference TEXT,
    commit_sha TEXT,
    version TEXT,
    -- cold | quick
    lane TEXT NOT NULL,
    -- running | finished | lost
    state TEXT NOT NULL,
    level BIGINT,
    -- green | red (NULL while running, or lost)
    verdict TEXT,
    -- The one-line error of a run refused before deploying (its input was wrong).
    bad_input TEXT,
    -- 1 when a test filter left steps out: such a run never stands for a recipe's level.
    partial BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    duration_secs DOUBLE PRECISION,
    ccci_version TEXT,
    ccci_commit TEXT,
    -- The results.json schema it was written in (ccci.results/N).
    results_schema TEXT,
    host TEXT,
    domain TEXT,
    app_url TEXT,
    routing TEXT,
    run_dir TEXT,
    -- Why it is red (the first reason), or why it was lost.
    reason TEXT
);
-- A recipe's runs by time, with what the catalogue counts: read from the index alone.
CREATE INDEX runs_by_recipe ON runs (recipe, started_at, state);
CREATE INDEX runs_by_time ON runs (started_at);
-- The runs that stand for a recipe's level (finished, cold, the whole ladder), newest last,
-- with their levels: what the catalogue draws, read from the index alone.
CREATE INDEX runs_whole_cold ON runs (recipe, started_at, run_id, level, verdict)
    WHERE lane = 'cold' AND state = 'finished' AND partial = 0;

-- A finished run's results.json as it was written, in the schema it was written in.
CREATE TABLE results (
    run_id TEXT PRIMARY KEY,
    results TEXT NOT NULL
);

-- Each rung of a finished run.
CREATE TABLE rungs (
    run_id TEXT NOT NULL,
    rung TEXT NOT NULL,
    -- pass | fail | skip | unverified | not run
    outcome TEXT NOT NULL,
    intentional BIGINT NOT NULL DEFAULT 0,
    reason TEXT,
    PRIMARY KEY (run_id, rung)
);

-- Each step of a finished run, in the order it ran.
CREATE TABLE steps (
    run_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    rung TEXT NOT NULL,
    -- pass | fail | not_run | cannot_run | filtered | skipped
    status TEXT NOT NULL,
    message TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (run_id, position)
);
