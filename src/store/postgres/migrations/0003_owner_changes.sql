-- Every change to the owner's record, in the order it was committed, for the other processes on
-- the database to follow (see `follow.rs`). Written in the change's own transaction, while owner
-- changes take turns, so ids are committed in order. Rows older than a day are pruned: a process
-- reads the record whole when it starts and follows from the newest row at that moment.
CREATE TABLE owner_changes (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    change jsonb NOT NULL
);
CREATE INDEX owner_changes_by_time ON owner_changes (at);
