-- Down cannot give back what the close never stored (who answered when); it restores the shape.
DROP TABLE withheld_units;
ALTER TABLE invitations ADD COLUMN completed_at TIMESTAMP;
ALTER TABLE invitations DROP COLUMN answered;
ALTER TABLE campaigns DROP COLUMN unopenable_excluded;
ALTER TABLE campaigns DROP COLUMN scrub_pending;
ALTER TABLE campaigns DROP COLUMN ballot_comment_chars;
ALTER TABLE campaigns DROP COLUMN ballot_units;
ALTER TABLE campaigns DROP COLUMN ballot_suite;
ALTER TABLE campaigns DROP COLUMN ballot_public_key;
DROP TABLE ballots;
