DROP INDEX outbox_invitation;
DROP INDEX invitations_enterprise;
DROP TABLE leases;
ALTER TABLE outbox DROP COLUMN lease_until;
