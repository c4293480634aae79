-- Issue 38 (sealed ballots), first schema step: a campaign can be discarded (作废) and its period
-- run again; viewing a survey writes nothing to the invitation. See the SQLite migration of the
-- same name for the reasons.
ALTER TABLE campaigns DROP CONSTRAINT campaigns_state_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_state_check CHECK (state IN ('draft', 'key_check',
    'open', 'closing', 'closed', 'published', 'discarded'));
ALTER TABLE campaigns ADD COLUMN discard_reason TEXT;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_discard_reason
    CHECK ((state = 'discarded') = (discard_reason IS NOT NULL));
ALTER TABLE campaigns DROP CONSTRAINT campaigns_period_key;
CREATE UNIQUE INDEX campaigns_period ON campaigns (period) WHERE state <> 'discarded';
-- At most one campaign under way at a time (taking answers, or about to): the open refuses a
-- second one, and this index holds the rule against two opens racing.
CREATE UNIQUE INDEX campaigns_one_under_way ON campaigns ((state IN ('key_check', 'open', 'closing')))
    WHERE state IN ('key_check', 'open', 'closing');

CREATE TABLE survey_views (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    day DATE NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, day)
);
INSERT INTO survey_views (campaign_id, day, views)
    SELECT campaign_id, (opened_at + INTERVAL '8 hours')::date, count(*)
    FROM invitations WHERE opened_at IS NOT NULL
    GROUP BY campaign_id, (opened_at + INTERVAL '8 hours')::date;
-- Emptied before it is dropped; the old row versions stay in the table's pages until VACUUM
-- reclaims them (docs/architecture.md §4.2: VACUUM frees, it does not erase).
UPDATE invitations SET opened_at = NULL WHERE opened_at IS NOT NULL;
ALTER TABLE invitations DROP COLUMN opened_at;
