-- The registry and the campaign tables: one row shape for every word of docs/domain.md §3.
-- Times are UTC (TIMESTAMP without zone); "the day" columns are Asia/Shanghai dates.
CREATE TABLE peer_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('department', 'office', 'station')),
    parent_code TEXT,
    peer_group TEXT NOT NULL REFERENCES peer_groups (name),
    predecessor_code TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE unit_heads (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    name TEXT NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE
);
CREATE INDEX unit_heads_unit ON unit_heads (unit_id, from_date);
CREATE INDEX unit_heads_name ON unit_heads (name);

CREATE TABLE enterprises (
    id INTEGER PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    district TEXT NOT NULL,
    industry TEXT NOT NULL,
    size TEXT NOT NULL CHECK (size IN ('micro', 'small', 'medium', 'large')),
    mail_status TEXT NOT NULL DEFAULT 'ok' CHECK (mail_status IN ('ok', 'bounced', 'opted_out')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('draft', 'open', 'closed', 'published')),
    template_name TEXT NOT NULL,
    template_toml TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    sample_size BIGINT,
    sample_seed BIGINT,
    created_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP
);

-- Which units an enterprise dealt with in a half year (imported per period, before or after the
-- campaign is created).
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    UNIQUE (period, enterprise_id, unit_id)
);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
    token_hash TEXT NOT NULL UNIQUE,
    link_version INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'sent', 'failed', 'bounced')),
    issued_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    opened_at TIMESTAMP,
    completed_at TIMESTAMP,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    last_reminded_at TIMESTAMP,
    failure TEXT,
    UNIQUE (campaign_id, enterprise_id)
);

-- What to send to whom; bodies are rendered at send time (docs/architecture.md §4.1).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations (id),
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder', 'extension')),
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- An anonymous submission: no enterprise id, no token, only the strata and the day.
CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    respondent_key TEXT NOT NULL UNIQUE,
    size TEXT NOT NULL,
    industry TEXT NOT NULL,
    district TEXT NOT NULL,
    submitted_on DATE NOT NULL
);

CREATE TABLE ratings (
    id INTEGER PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES responses (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    self_selected BOOLEAN NOT NULL,
    answers TEXT NOT NULL,
    problems TEXT NOT NULL,
    comment TEXT,
    comment_hidden_reason TEXT,
    UNIQUE (response_id, unit_id)
);
CREATE INDEX ratings_unit ON ratings (unit_id);

-- One aggregation run of a campaign: its method version, seed and settings make it reproducible.
CREATE TABLE aggregations (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    method_version TEXT NOT NULL,
    seed BIGINT NOT NULL,
    settings TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);

CREATE TABLE peer_group_results (
    id INTEGER PRIMARY KEY,
    aggregation_id BIGINT NOT NULL REFERENCES aggregations (id),
    peer_group TEXT NOT NULL,
    tau2 DOUBLE,
    mu DOUBLE,
    UNIQUE (aggregation_id, peer_group)
);

CREATE TABLE unit_results (
    id INTEGER PRIMARY KEY,
    aggregation_id BIGINT NOT NULL REFERENCES aggregations (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    peer_group TEXT NOT NULL,
    n BIGINT NOT NULL,
    n_eff DOUBLE NOT NULL,
    response_rate DOUBLE,
    score DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    satisfied_rate DOUBLE,
    satisfied_low DOUBLE,
    satisfied_high DOUBLE,
    shrunken DOUBLE,
    rank BIGINT,
    rank_mean DOUBLE,
    rank_low BIGINT,
    rank_high BIGINT,
    p_bottom5 DOUBLE,
    eligible BOOLEAN NOT NULL,
    suppressed BOOLEAN NOT NULL,
    UNIQUE (aggregation_id, unit_id)
);

-- A frozen publication: never rewritten; a correction is a new version that supersedes it.
CREATE TABLE publications (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    version INTEGER NOT NULL,
    aggregation_id BIGINT NOT NULL REFERENCES aggregations (id),
    supersedes_id BIGINT REFERENCES publications (id),
    reason TEXT,
    published_at TIMESTAMP NOT NULL,
    results_json TEXT NOT NULL,
    UNIQUE (campaign_id, version)
);

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    publication_id BIGINT NOT NULL REFERENCES publications (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    periods TEXT NOT NULL,
    credible BOOLEAN NOT NULL,
    evidence TEXT NOT NULL,
    UNIQUE (publication_id, unit_id)
);

-- 问题清单: a problem an enterprise reported by name, tracked to resolution or accountability.
CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT REFERENCES units (id),
    channel TEXT NOT NULL,
    reporter_name TEXT,
    reporter_contact TEXT,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    deadline DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
