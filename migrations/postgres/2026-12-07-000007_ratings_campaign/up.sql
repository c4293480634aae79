-- Ratings carry their campaign, and the strata that weighting reads, so that nothing but the
-- submission reads `responses` (issue 37): counts, aggregation, moderation and the unit pages read
-- ratings by campaign and unit. The index by unit gains the campaign: the unit pages and the
-- aggregation read a unit's ratings of one campaign through it.
ALTER TABLE ratings
    ADD COLUMN campaign_id BIGINT REFERENCES campaigns (id),
    ADD COLUMN size TEXT,
    ADD COLUMN industry TEXT,
    ADD COLUMN district TEXT;
UPDATE ratings
    SET campaign_id = s.campaign_id, size = s.size, industry = s.industry, district = s.district
    FROM responses s
    WHERE s.id = ratings.response_id;
ALTER TABLE ratings
    ALTER COLUMN campaign_id SET NOT NULL,
    ALTER COLUMN size SET NOT NULL,
    ALTER COLUMN industry SET NOT NULL,
    ALTER COLUMN district SET NOT NULL;
DROP INDEX ratings_unit;
CREATE INDEX ratings_unit_campaign ON ratings (unit_id, campaign_id);
