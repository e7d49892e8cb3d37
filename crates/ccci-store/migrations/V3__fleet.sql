-- The warm fleet: the canonical deployments each host keeps, and the sweeps with what each
-- found against the sweep before it (the drift).

-- One row per canonical deployment, as its host last recorded it known-good.
CREATE TABLE canonicals (
    host TEXT NOT NULL,
    recipe TEXT NOT NULL,
    version TEXT NOT NULL,
    domain TEXT NOT NULL,
    stack TEXT NOT NULL,
    -- When it was proven known-good (Unix seconds).
    since BIGINT NOT NULL,
    -- The green cold run that proved its version, when one did.
    proven_by TEXT,
    -- What proves its data (markers, the recipe's checks).
    proof TEXT NOT NULL,
    snapshot TEXT,
    PRIMARY KEY (host, recipe)
);

-- One row per sweep.
CREATE TABLE sweeps (
    sweep_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- What rolling the shared dependencies did.
    deps TEXT
);

-- Each enrolled recipe of a sweep: its run, and its drift from the previous sweep's run.
CREATE TABLE sweep_runs (
    sweep_id TEXT NOT NULL,
    recipe TEXT NOT NULL,
    -- NULL when it could not run (then `note` says why).
    run_id TEXT,
    note TEXT,
    previous_run_id TEXT,
    -- none | regression | improvement | new
    drift TEXT NOT NULL,
    PRIMARY KEY (sweep_id, recipe)
);
CREATE INDEX sweep_runs_by_recipe ON sweep_runs (recipe, sweep_id);
