-- What each forge call tells the pull request, in a line for people (the job's page shows
-- it), written by the service beside the call itself: the page never reads the call's JSON.
ALTER TABLE outbox ADD COLUMN summary TEXT;
