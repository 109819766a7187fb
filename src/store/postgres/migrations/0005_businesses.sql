-- Many businesses in one database: each per-business table gains the business whose row it is,
-- leading its keys and indexes so that every query reads one business's range. What a database
-- held before is the default business's (id 1). The providers' once-only tokens stay
-- deployment-wide: a provider signs for the deployment, not for a business.

CREATE TABLE businesses (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    settings text NOT NULL DEFAULT '',
    token_sha256 text,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO businesses (id, name) VALUES (1, 'default');
SELECT setval(pg_get_serial_sequence('businesses', 'id'), 1);

-- The numbers callers dial, and whose business each brings calls to.
CREATE TABLE lines (
    number text PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE
);
CREATE INDEX lines_by_business ON lines (business_id, number);

ALTER TABLE declines ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE declines DROP CONSTRAINT declines_pkey, ADD PRIMARY KEY (business_id, target);
DROP INDEX declines_rules;
CREATE INDEX declines_rules ON declines (business_id, target) WHERE number IS NULL;

ALTER TABLE companies ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE companies DROP CONSTRAINT companies_pkey, ADD PRIMARY KEY (business_id, key);

ALTER TABLE allows ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE allows DROP CONSTRAINT allows_pkey, ADD PRIMARY KEY (business_id, number);

ALTER TABLE settings ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE settings DROP CONSTRAINT settings_pkey, ADD PRIMARY KEY (business_id, key);

ALTER TABLE text_sessions ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE text_sessions DROP CONSTRAINT text_sessions_pkey, ADD PRIMARY KEY (business_id, owner);

ALTER TABLE legal_holds ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE legal_holds DROP CONSTRAINT legal_holds_pkey, ADD PRIMARY KEY (business_id, party);

-- The column and the keys reach every month's partition from here.
ALTER TABLE calls ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE calls DROP CONSTRAINT calls_pkey, ADD PRIMARY KEY (business_id, at, id);
DROP INDEX calls_by_caller;
DROP INDEX calls_by_party;
DROP INDEX calls_by_decision;
DROP INDEX calls_by_call_id;
CREATE INDEX calls_by_caller ON calls (business_id, caller, at, id);
CREATE INDEX calls_by_party ON calls (business_id, party, at, id) WHERE party IS NOT NULL;
CREATE INDEX calls_by_decision ON calls (business_id, decision, at, id) WHERE decision <> 0;
CREATE INDEX calls_by_call_id ON calls (business_id, call_id, at, id);

ALTER TABLE tallies ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE tallies DROP CONSTRAINT tallies_pkey, ADD PRIMARY KEY (business_id, hour);

-- `follow_ups_by_time` stays led by the time: the one reader of it follows every business's counts.
ALTER TABLE follow_ups ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_pkey, ADD PRIMARY KEY (business_id, party);

ALTER TABLE prune_walks ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE prune_walks DROP CONSTRAINT prune_walks_pkey, ADD PRIMARY KEY (business_id, month);

ALTER TABLE prune_kept ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE prune_kept DROP CONSTRAINT prune_kept_pkey, ADD PRIMARY KEY (business_id, at, id);

-- Followed by id across businesses (ids are taken in commit order, see `owner_changes.rs`), and
-- caught up on by business.
ALTER TABLE owner_changes ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
CREATE INDEX owner_changes_by_business ON owner_changes (business_id, id);

ALTER TABLE owner_decisions ADD COLUMN business_id bigint NOT NULL DEFAULT 1;
ALTER TABLE owner_decisions DROP CONSTRAINT owner_decisions_pkey, ADD PRIMARY KEY (business_id, call_id);
