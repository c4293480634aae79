CREATE TABLE ratings_previous (
    id INTEGER PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES responses (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    self_selected BOOLEAN NOT NULL,
    answers TEXT NOT NULL,
    problems TEXT NOT NULL,
    comment TEXT,
    comment_hidden_reason TEXT,
    comment_hidden_at TIMESTAMP,
    comment_hidden_by TEXT,
    UNIQUE (response_id, unit_id)
);
INSERT INTO ratings_previous (id, response_id, unit_id, self_selected, answers, problems, comment,
        comment_hidden_reason, comment_hidden_at, comment_hidden_by)
    SELECT id, response_id, unit_id, self_selected, answers, problems, comment,
        comment_hidden_reason, comment_hidden_at, comment_hidden_by
    FROM ratings;
DROP TABLE ratings;
ALTER TABLE ratings_previous RENAME TO ratings;
CREATE INDEX ratings_unit ON ratings (unit_id);
