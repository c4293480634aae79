-- Issue 38: answers arrive as sealed ballots (HPKE to the campaign's ballot key) and are opened
-- only at the close. A ballot row holds its spent key (HMAC of campaign and invitation under a key
-- derived from link_secret: one link, one ballot, without touching the invitation) and the sealed
-- bytes, all of one length within a campaign. WITHOUT ROWID: rows sit in spent-key order, not in
-- the order they arrived.
CREATE TABLE ballots (
    spent_key BLOB PRIMARY KEY NOT NULL CHECK (length(spent_key) = 32),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX ballots_campaign ON ballots (campaign_id);

-- The campaign's public key and ballot layout, set when it opens; the private key is never stored.
ALTER TABLE campaigns ADD COLUMN ballot_public_key BLOB;
ALTER TABLE campaigns ADD COLUMN ballot_suite TEXT;
ALTER TABLE campaigns ADD COLUMN ballot_units INTEGER;
ALTER TABLE campaigns ADD COLUMN ballot_comment_chars INTEGER;
-- The close's scrub of the opened ballots has not finished (a rerun of the close redoes it).
ALTER TABLE campaigns ADD COLUMN scrub_pending BOOLEAN NOT NULL DEFAULT 0;
-- Ballots the close dropped as unopenable (`--exclude-unopenable`); the bulletin states the number.
ALTER TABLE campaigns ADD COLUMN unopenable_excluded BIGINT;

-- An invitation answered: a flag set at the close, never a time.
ALTER TABLE invitations ADD COLUMN answered BOOLEAN NOT NULL DEFAULT 0;
UPDATE invitations SET answered = 1 WHERE completed_at IS NOT NULL;
ALTER TABLE invitations DROP COLUMN completed_at;

-- A unit with fewer stored entries than the smallest crowd keeps only its count (the close drops
-- its answers).
CREATE TABLE withheld_units (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    entries BIGINT NOT NULL CHECK (entries > 0),
    PRIMARY KEY (campaign_id, unit_id)
);

-- Ratings written by the close belong to no response: the column stays, empty, for answers stored
-- before this release (the next release's upgrade step turns those into unlinked ratings). SQLite
-- cannot drop a NOT NULL, so the table is rebuilt; nothing refers to ratings.
CREATE TABLE ratings_next (
    id INTEGER PRIMARY KEY,
    response_id BIGINT REFERENCES responses (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    self_selected BOOLEAN NOT NULL,
    answers TEXT NOT NULL,
    problems TEXT NOT NULL,
    comment TEXT,
    comment_hidden_reason TEXT,
    comment_hidden_at TIMESTAMP,
    comment_hidden_by TEXT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    size TEXT NOT NULL,
    industry TEXT NOT NULL,
    district TEXT NOT NULL,
    UNIQUE (response_id, unit_id)
);
INSERT INTO ratings_next SELECT id, response_id, unit_id, self_selected, answers, problems, comment,
    comment_hidden_reason, comment_hidden_at, comment_hidden_by, campaign_id, size, industry,
    district FROM ratings;
DROP TABLE ratings;
ALTER TABLE ratings_next RENAME TO ratings;
CREATE INDEX ratings_unit_campaign ON ratings (unit_id, campaign_id);
