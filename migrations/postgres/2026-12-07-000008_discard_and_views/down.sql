ALTER TABLE invitations ADD COLUMN opened_at TIMESTAMP;
DROP TABLE survey_views;
DROP INDEX campaigns_one_under_way;
DROP INDEX campaigns_period;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_period_key UNIQUE (period);
ALTER TABLE campaigns DROP CONSTRAINT campaigns_discard_reason;
ALTER TABLE campaigns DROP COLUMN discard_reason;
ALTER TABLE campaigns DROP CONSTRAINT campaigns_state_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_state_check CHECK (state IN ('draft', 'open',
    'closed', 'published'));
