-- The engine's whole output per aggregation (for exact reproduction and for later flags), the
-- recorded reasons why units were not flagged, and triggers that freeze what was published.
ALTER TABLE aggregations ADD COLUMN result_json TEXT NOT NULL DEFAULT '';
ALTER TABLE publications ADD COLUMN flag_notes TEXT NOT NULL DEFAULT '[]';

CREATE TRIGGER publications_frozen_update BEFORE UPDATE ON publications
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER publications_frozen_delete BEFORE DELETE ON publications
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER flags_frozen_update BEFORE UPDATE ON flags
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER flags_frozen_delete BEFORE DELETE ON flags
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER aggregations_frozen_update BEFORE UPDATE ON aggregations
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER aggregations_frozen_delete BEFORE DELETE ON aggregations
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER unit_results_frozen_update BEFORE UPDATE ON unit_results
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.aggregation_id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER unit_results_frozen_delete BEFORE DELETE ON unit_results
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.aggregation_id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER peer_group_results_frozen_update BEFORE UPDATE ON peer_group_results
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.aggregation_id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
CREATE TRIGGER peer_group_results_frozen_delete BEFORE DELETE ON peer_group_results
WHEN EXISTS (SELECT 1 FROM publications WHERE aggregation_id = OLD.aggregation_id)
BEGIN SELECT RAISE(ABORT, 'published results are frozen: publish a superseding version instead'); END;
