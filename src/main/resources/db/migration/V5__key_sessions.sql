-- keyrelay schema, version 5: a key's own cap on its concurrent SMTP sessions. Portable SQL (PostgreSQL and H2).
-- NULL = the relay's default (limits.sessions_per_key); 0 = unlimited.

ALTER TABLE api_keys ADD COLUMN sessions_per_key INTEGER;
