-- The forge's CI: the deliveries a service received (a replay repeats an id), the queue of runs
-- they asked for, the forge calls still to make, and ccci's report comment on each pull request.

-- A webhook delivery, by its id: kept so that a replay is refused, and, while `accepted`,
-- until the service has acted on it (asked the forge, queued the run).
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    repo TEXT,
    -- accepted | taken (a process acts on it) | done | ignored
    state TEXT NOT NULL,
    -- What it asks, when accepted: JSON of the service's own intake.
    request TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL DEFAULT 0,
    note TEXT
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

-- A run asked for: one pull request head of one repository, in one lane.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    head_sha TEXT NOT NULL,
    clone_url TEXT NOT NULL,
    recipe TEXT NOT NULL,
    -- A test crate of the serving workspace, or NULL for the generic tiers.
    test_crate TEXT,
    lane TEXT NOT NULL,
    -- queued | running | done | error
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    requested_by TEXT,
    trigger_comment BIGINT,
    host TEXT,
    pid BIGINT,
    pid_start BIGINT,
    run_id TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    note TEXT
);
-- A second !testme for a head while its run is queued or running is the same run.
CREATE UNIQUE INDEX jobs_one_per_head ON jobs (repo, head_sha, lane)
    WHERE state = 'queued' OR state = 'running';
-- One run per recipe at a time, across every host sharing the store.
CREATE UNIQUE INDEX jobs_one_per_recipe ON jobs (recipe) WHERE state = 'running';
CREATE INDEX jobs_queued ON jobs (state, created_at);

-- A call to the forge still to make (a reaction, a status, a comment), retried with backoff
-- until the forge takes it: the runs go on while the forge is away, and nothing is dropped.
-- A job's calls are made in the order they were asked for (`seq`, microseconds since the
-- epoch): a late "pending" never overwrites a run's final status.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    -- react | status | report | reply
    kind TEXT NOT NULL,
    -- JSON of the call.
    call TEXT NOT NULL,
    -- pending | taken (a process makes it) | sent | failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_at);
CREATE INDEX outbox_by_job ON outbox (job_id, seq);

-- ccci's report comment on a pull request, edited by every later run of it.
CREATE TABLE pr_comments (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    comment_id BIGINT NOT NULL,
    PRIMARY KEY (repo, pr)
);
