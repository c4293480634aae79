CREATE TABLE ballots_next (
    spent_key BLOB PRIMARY KEY NOT NULL CHECK (length(spent_key) = 32),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    sealed BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO ballots_next (spent_key, campaign_id, sealed)
    SELECT spent_key, campaign_id, sealed FROM ballots;
DROP TABLE ballots;
ALTER TABLE ballots_next RENAME TO ballots;
CREATE INDEX ballots_campaign ON ballots (campaign_id);
