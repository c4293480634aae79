-- Back to one campaign per period and four states: refused while a campaign is discarded or in a
-- state the earlier release does not know (the CHECK fails). The survey views are dropped: which
-- invitation was opened, and when, was not kept.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
ALTER TABLE invitations ADD COLUMN opened_at TIMESTAMP;
DROP TABLE survey_views;
CREATE TABLE campaigns_previous (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('draft', 'open', 'closed', 'published')),
    template_name TEXT NOT NULL,
    template_toml TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    sample_size BIGINT,
    sample_seed BIGINT,
    created_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP
);
INSERT INTO campaigns_previous (id, period, state, template_name, template_toml, opens_on,
        closes_on, sample_size, sample_seed, created_at, opened_at, closed_at)
    SELECT id, period, state, template_name, template_toml, opens_on, closes_on, sample_size,
        sample_seed, created_at, opened_at, closed_at
    FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_previous RENAME TO campaigns;
COMMIT;
PRAGMA foreign_keys = ON;
