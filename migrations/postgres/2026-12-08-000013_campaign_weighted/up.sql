-- Issue 39: whether a campaign is weighted is stored with it when it is created. NULL for the
-- campaigns created before: for them `[weighting] enabled` in qiping.toml still decides, as it did.
ALTER TABLE campaigns ADD COLUMN weighted BOOLEAN;
