-- Issue 38: answers arrive as sealed ballots (HPKE to the campaign's ballot key) and are opened
-- only at the close. A ballot row holds its spent key (HMAC of campaign and invitation under a key
-- derived from link_secret: one link, one ballot, without touching the invitation) and the sealed
-- bytes, all of one length within a campaign. The sealed bytes are not compressed (they would not
-- shrink, and a compressed length could differ).
CREATE TABLE ballots (
    spent_key BYTEA PRIMARY KEY CHECK (octet_length(spent_key) = 32),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    sealed BYTEA NOT NULL
);
ALTER TABLE ballots ALTER COLUMN sealed SET STORAGE EXTERNAL;
CREATE INDEX ballots_campaign ON ballots (campaign_id);

ALTER TABLE campaigns ADD COLUMN ballot_public_key BYTEA;
ALTER TABLE campaigns ADD COLUMN ballot_suite TEXT;
ALTER TABLE campaigns ADD COLUMN ballot_units INTEGER;
ALTER TABLE campaigns ADD COLUMN ballot_comment_chars INTEGER;
ALTER TABLE campaigns ADD COLUMN scrub_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE campaigns ADD COLUMN unopenable_excluded BIGINT;

ALTER TABLE invitations ADD COLUMN answered BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE invitations SET answered = TRUE WHERE completed_at IS NOT NULL;
ALTER TABLE invitations DROP COLUMN completed_at;

CREATE TABLE withheld_units (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    entries BIGINT NOT NULL CHECK (entries > 0),
    PRIMARY KEY (campaign_id, unit_id)
);

ALTER TABLE ratings ALTER COLUMN response_id DROP NOT NULL;
