-- Facts about calls in progress that every process on the database must see, because the next
-- request about a call may reach another process than the one that answered the call.

-- What whoever answered a forward decided during its announcement (`OwnerDecision` as JSON), by
-- the original call's id, until the call's dial callback takes it (at most ten minutes).
CREATE TABLE owner_decisions (
    call_id text PRIMARY KEY,
    decision jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

-- The once-only tokens providers sign webhooks with (Plivo's nonce, Vonage's `jti`), by provider,
-- for a day: a second request with one is a replay, whichever process it reaches.
CREATE TABLE seen_tokens (
    scope text NOT NULL,
    token text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, token)
);
CREATE INDEX seen_tokens_by_time ON seen_tokens (at);

-- When each party's follow-up count last changed, so that every process can follow the counts
-- the others' logged refusals reach without reading them all each time.
ALTER TABLE follow_ups ADD COLUMN counted_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX follow_ups_by_time ON follow_ups (counted_at);
