-- Ballots in a table with a rowid and a unique index on the spent key, instead of WITHOUT ROWID.
-- WITHOUT ROWID keeps the whole row in the key's b-tree, interior pages included: with 5 KB
-- rows an interior page held about four keys, so every "already answered?" lookup and every
-- insert walked six or seven pages, and that walk was the largest part of a survey request's
-- reads. Now the unique index holds only the keys (about a hundred to a page) and the rows are
-- appended. What it gives up: the rows now lie in the order they arrived — which the WAL showed
-- anyway, PostgreSQL's heap shows too, and G2 states (while open, the database tells how many
-- ballots arrived and when); the close deletes and scrubs every one of them (G1).
CREATE TABLE ballots_next (
    spent_key BLOB NOT NULL UNIQUE CHECK (length(spent_key) = 32),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    sealed BLOB NOT NULL
);
INSERT INTO ballots_next (spent_key, campaign_id, sealed)
    SELECT spent_key, campaign_id, sealed FROM ballots;
DROP TABLE ballots;
ALTER TABLE ballots_next RENAME TO ballots;
CREATE INDEX ballots_campaign ON ballots (campaign_id);
