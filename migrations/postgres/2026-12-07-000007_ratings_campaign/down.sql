DROP INDEX ratings_unit_campaign;
CREATE INDEX ratings_unit ON ratings (unit_id);
ALTER TABLE ratings
    DROP COLUMN district,
    DROP COLUMN industry,
    DROP COLUMN size,
    DROP COLUMN campaign_id;
