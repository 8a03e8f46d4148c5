-- keyrelay schema, version 9: a key's own list of the sending domains it may send as. Portable SQL (PostgreSQL, H2).
-- Comma-separated A-label domains; NULL or empty = any sending domain of the key's account.

ALTER TABLE api_keys ADD COLUMN sending_domains VARCHAR(13000);
