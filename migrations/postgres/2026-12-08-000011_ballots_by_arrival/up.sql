-- SQLite's ballots table gets a rowid and a unique index on the spent key (see its migration);
-- PostgreSQL's already has both shapes (a heap in arrival order, the primary key's index).
COMMENT ON TABLE ballots IS 'Sealed ballots of open campaigns; the close opens, deletes and vacuums them.';
