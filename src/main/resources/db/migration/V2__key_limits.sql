-- keyrelay schema, version 2: per-key sending limits. Portable SQL: runs unchanged on PostgreSQL and on H2.
-- NULL = the relay's default (limits.* and smtp.max_* in the configuration); for the two rates 0 = unlimited.

ALTER TABLE api_keys ADD COLUMN messages_per_minute INTEGER;
ALTER TABLE api_keys ADD COLUMN messages_per_day INTEGER;
ALTER TABLE api_keys ADD COLUMN max_recipients INTEGER;
ALTER TABLE api_keys ADD COLUMN max_message_size BIGINT;

-- `keyrelay audit list` without --key reads the newest events of every kind, e.g. a burst of failed AUTHs.
CREATE INDEX audit_events_action ON audit_events (action, occurred_at);
