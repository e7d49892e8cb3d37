-- `!testme keep=30m`: how long a red run's deployment is kept for a look, in seconds.
ALTER TABLE jobs ADD COLUMN keep_secs BIGINT;
