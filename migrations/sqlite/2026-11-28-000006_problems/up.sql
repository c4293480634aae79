-- 问题清单 and its supervision (issue 11): the workflow's columns on `problems`, and one row per
-- step in `problem_events` (when, by whom, from which state to which, the deadline set).
ALTER TABLE problems ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE problems ADD COLUMN enterprise_name TEXT;
ALTER TABLE problems ADD COLUMN reporter_email TEXT;
ALTER TABLE problems ADD COLUMN answer TEXT;
ALTER TABLE problems ADD COLUMN outcome TEXT;
ALTER TABLE problems ADD COLUMN confirm_due DATE;
ALTER TABLE problems ADD COLUMN confirm_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE problems ADD COLUMN confirm_token_hash TEXT;
ALTER TABLE problems ADD COLUMN mail_status TEXT;
ALTER TABLE problems ADD COLUMN mail_error TEXT;
ALTER TABLE problems ADD COLUMN mail_lease_until TIMESTAMP;

CREATE INDEX problems_state ON problems (state, deadline);
CREATE INDEX problems_unit ON problems (unit_id);
CREATE UNIQUE INDEX problems_confirm_token ON problems (confirm_token_hash);

CREATE TABLE problem_events (
    id INTEGER PRIMARY KEY,
    problem_id BIGINT NOT NULL REFERENCES problems (id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    stage INTEGER NOT NULL,
    deadline DATE,
    note TEXT
);
CREATE INDEX problem_events_problem ON problem_events (problem_id);
CREATE INDEX problem_events_at ON problem_events (at);
