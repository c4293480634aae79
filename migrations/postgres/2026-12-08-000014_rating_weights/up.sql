-- Issue 39: a weighted campaign's ratings carry a weight instead of their enterprise's strata.
-- The close rakes the respondents and gives each rating the mean weight of a cell of at least
-- five raters of its unit (stats::weighting::rating_weights); NULL when the campaign is
-- unweighted. The strata columns stay (empty) for the releases that read them; the upgrade step
-- (qiping migrate) turns strata already stored into weights and empties them.
ALTER TABLE ratings ADD COLUMN weight DOUBLE PRECISION;
-- How raking went at the close (JSON of stats::weighting::RakingReport), for the method page.
ALTER TABLE campaigns ADD COLUMN raking_report TEXT;
