-- Issue 38 (sealed ballots), first schema step: a campaign can be discarded (作废) and its period
-- run again; viewing a survey writes nothing to the invitation.
--
-- campaigns: the states of the sealed ballots (`key_check` and `closing` come into use with the
-- sealed submissions; `discarded` now), the reason of a discard, and the period unique only among
-- campaigns that are not discarded (a partial index instead of the column's UNIQUE). SQLite cannot
-- change a CHECK or drop a UNIQUE, so the table is rebuilt; with foreign keys on, dropping a table
-- others refer to fails, hence foreign keys off around one transaction (the rows keep their ids,
-- so every reference still holds).
--
-- survey_views: how many times a campaign's surveys were viewed, per day (`campaign show`'s
-- `opened` and `views_by_day`). It replaces `invitations.opened_at`, which told when each
-- enterprise first opened its link, to the nanosecond; each invitation opened so far counts as one
-- view on the day it was first opened.
-- secure_delete: the dropped column's values (and the campaigns table's old pages) are zeroed, not
-- left in free space.
PRAGMA foreign_keys = OFF;
PRAGMA secure_delete = ON;
BEGIN IMMEDIATE;
CREATE TABLE campaigns_next (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'key_check', 'open', 'closing', 'closed',
        'published', 'discarded')),
    template_name TEXT NOT NULL,
    template_toml TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    sample_size BIGINT,
    sample_seed BIGINT,
    created_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    discard_reason TEXT,
    CHECK ((state = 'discarded') = (discard_reason IS NOT NULL))
);
INSERT INTO campaigns_next (id, period, state, template_name, template_toml, opens_on, closes_on,
        sample_size, sample_seed, created_at, opened_at, closed_at)
    SELECT id, period, state, template_name, template_toml, opens_on, closes_on, sample_size,
        sample_seed, created_at, opened_at, closed_at
    FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_next RENAME TO campaigns;
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
    SELECT campaign_id, date(opened_at, '+8 hours'), count(*)
    FROM invitations WHERE opened_at IS NOT NULL
    GROUP BY campaign_id, date(opened_at, '+8 hours');
UPDATE invitations SET opened_at = NULL;
ALTER TABLE invitations DROP COLUMN opened_at;
COMMIT;
PRAGMA foreign_keys = ON;
