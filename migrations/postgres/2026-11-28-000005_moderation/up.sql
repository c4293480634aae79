-- Comment moderation: who hid a comment and when, beside the reason the registry migration
-- already has. A hidden comment stays stored (the audit log points at it) but no unit sees it.
ALTER TABLE ratings ADD COLUMN comment_hidden_at TIMESTAMP;
ALTER TABLE ratings ADD COLUMN comment_hidden_by TEXT;
