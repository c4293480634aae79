ALTER TABLE campaigns DROP COLUMN raking_report;
ALTER TABLE ratings DROP COLUMN weight;
