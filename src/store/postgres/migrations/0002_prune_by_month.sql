-- Retention replaces a month of the call log whole, once every call in it has been judged, rather
-- than deleting its calls one by one. While the month is walked (in batches, by `prune_calls`),
-- the calls to keep (those under a legal hold) are noted here; at the end of the month they are
-- copied into a fresh partition and the old one is dropped.
CREATE TABLE prune_walks (
    month date PRIMARY KEY,
    -- How many of the month's calls the walk has judged so far.
    walked bigint NOT NULL
);

CREATE TABLE prune_kept (
    at timestamptz NOT NULL,
    id bigint NOT NULL,
    PRIMARY KEY (at, id)
);
