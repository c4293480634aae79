ALTER TABLE campaigns DROP COLUMN weighted;
