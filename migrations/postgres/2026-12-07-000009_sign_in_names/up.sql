-- Issue 42: the lockout answers the same for an existing and an unknown name. Failed sign-ins are
-- counted per name — any name, whether or not it is an account — in one table keyed by a digest of
-- the name (never the name: people type passwords into the name field), so an unknown name is
-- counted and locked by the same rule as an account. The counts on `users` go; the upgrade lifts
-- any lock in force (a digest cannot be computed in SQL on SQLite).
CREATE TABLE sign_in_names (
    name_digest TEXT PRIMARY KEY,
    failed_attempts INTEGER NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
ALTER TABLE users DROP COLUMN failed_attempts;
ALTER TABLE users DROP COLUMN locked_until;
