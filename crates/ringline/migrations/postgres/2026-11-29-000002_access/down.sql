DROP TABLE login_attempts;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE audit_log;
ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN display_name;
