DROP TABLE login_attempts;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN display_name;
