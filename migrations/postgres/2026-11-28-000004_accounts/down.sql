DROP TABLE audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
