-- The engine's whole output per aggregation (for exact reproduction and for later flags), the
-- recorded reasons why units were not flagged, and triggers that freeze what was published.
ALTER TABLE aggregations ADD COLUMN result_json TEXT NOT NULL DEFAULT '';
ALTER TABLE publications ADD COLUMN flag_notes TEXT NOT NULL DEFAULT '[]';

CREATE FUNCTION qiping_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published results are frozen: publish a superseding version instead';
END $$;

CREATE FUNCTION qiping_frozen_if_published() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE agg BIGINT;
BEGIN
    IF TG_TABLE_NAME = 'aggregations' THEN agg := OLD.id; ELSE agg := OLD.aggregation_id; END IF;
    IF EXISTS (SELECT 1 FROM publications WHERE aggregation_id = agg) THEN
        RAISE EXCEPTION 'published results are frozen: publish a superseding version instead';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER publications_frozen BEFORE UPDATE OR DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION qiping_frozen();
CREATE TRIGGER flags_frozen BEFORE UPDATE OR DELETE ON flags
    FOR EACH ROW EXECUTE FUNCTION qiping_frozen();
CREATE TRIGGER aggregations_frozen BEFORE UPDATE OR DELETE ON aggregations
    FOR EACH ROW EXECUTE FUNCTION qiping_frozen_if_published();
CREATE TRIGGER unit_results_frozen BEFORE UPDATE OR DELETE ON unit_results
    FOR EACH ROW EXECUTE FUNCTION qiping_frozen_if_published();
CREATE TRIGGER peer_group_results_frozen BEFORE UPDATE OR DELETE ON peer_group_results
    FOR EACH ROW EXECUTE FUNCTION qiping_frozen_if_published();
-- TRUNCATE bypasses row triggers: refuse it on the frozen tables.
CREATE TRIGGER publications_no_truncate BEFORE TRUNCATE ON publications
    FOR EACH STATEMENT EXECUTE FUNCTION qiping_frozen();
CREATE TRIGGER flags_no_truncate BEFORE TRUNCATE ON flags
    FOR EACH STATEMENT EXECUTE FUNCTION qiping_frozen();
