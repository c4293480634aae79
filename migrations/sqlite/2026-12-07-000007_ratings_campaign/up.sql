-- Ratings carry their campaign, and the strata that weighting reads, so that nothing but the
-- submission reads `responses` (issue 37): counts, aggregation, moderation and the unit pages read
-- ratings by campaign and unit. SQLite cannot add a NOT NULL column with a foreign key, so the
-- table is rebuilt (nothing refers to ratings). The index by unit gains the campaign: the unit
-- pages and the aggregation read a unit's ratings of one campaign through it.
CREATE TABLE ratings_next (
    id INTEGER PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES responses (id),
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
INSERT INTO ratings_next (id, response_id, unit_id, self_selected, answers, problems, comment,
        comment_hidden_reason, comment_hidden_at, comment_hidden_by, campaign_id, size, industry,
        district)
    SELECT r.id, r.response_id, r.unit_id, r.self_selected, r.answers, r.problems, r.comment,
        r.comment_hidden_reason, r.comment_hidden_at, r.comment_hidden_by, s.campaign_id, s.size,
        s.industry, s.district
    FROM ratings r JOIN responses s ON s.id = r.response_id;
DROP TABLE ratings;
ALTER TABLE ratings_next RENAME TO ratings;
CREATE INDEX ratings_unit_campaign ON ratings (unit_id, campaign_id);
