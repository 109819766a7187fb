-- The owner's record: small, changed one transaction at a time, read whole into memory at start.

-- Every decline, by its target's key (`Target::key`); `number` is the number's key
-- (`PhoneNumber::key`) for a decline of one number, and null for a range or a pattern.
CREATE TABLE declines (
    target text PRIMARY KEY,
    number bigint,
    record jsonb NOT NULL
);
CREATE INDEX declines_rules ON declines (target) WHERE number IS NULL;

-- A company's name as first written, by its key (`domain::company_key`).
CREATE TABLE companies (
    key text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE allows (
    number text PRIMARY KEY,
    record jsonb NOT NULL
);

-- The settings the owner changes (the pause switch, the password's hash, the web page's undo list
-- and its signed-in browsers), one row each.
CREATE TABLE settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE text_sessions (
    owner text PRIMARY KEY,
    session jsonb NOT NULL
);

CREATE TABLE legal_holds (
    party text PRIMARY KEY,
    since timestamptz NOT NULL
);

-- The call log: partitioned by month on the time of the call, so that a month is one table of its
-- own. Partitions are made as calls arrive for their month (see `partitions.rs`); there is no
-- default partition, so none has to be split when a month is made.
CREATE SEQUENCE call_ids;

CREATE TABLE calls (
    at timestamptz NOT NULL,
    id bigint NOT NULL,
    call_id text NOT NULL,
    caller text NOT NULL,
    called text NOT NULL,
    decision smallint NOT NULL,
    reason text NOT NULL,
    company text,
    caller_name text,
    verification text,
    outcome jsonb,
    follow_up bigint,
    party text,
    flagged boolean NOT NULL,
    used_single_allow boolean NOT NULL,
    heard text,
    PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);

-- One index for each filter the log's pages are read along, newest first.
CREATE INDEX calls_by_caller ON calls (caller, at, id);
CREATE INDEX calls_by_party ON calls (party, at, id) WHERE party IS NOT NULL;
CREATE INDEX calls_by_decision ON calls (decision, at, id) WHERE decision <> 0;
-- Outcomes reported after a call find it by the provider's id.
CREATE INDEX calls_by_call_id ON calls (call_id, at, id);

-- Calls per hour, the hour counted from 1970 (`query::hour_of`).
CREATE TABLE tallies (
    hour bigint PRIMARY KEY,
    forwarded bigint NOT NULL,
    refused bigint NOT NULL,
    other bigint NOT NULL
);

CREATE TABLE follow_ups (
    party text PRIMARY KEY,
    count bigint NOT NULL,
    first_at timestamptz,
    last_at timestamptz
);
