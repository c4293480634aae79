-- The mail dispatcher: a per-message claim (lease) so that a killed dispatcher never sends a
-- message twice, and named leases so that one of several `serve` processes dispatches at a time.
ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMP;

CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX invitations_enterprise ON invitations (enterprise_id);
CREATE INDEX outbox_invitation ON outbox (invitation_id);
