-- A spent refresh token remembers when it was rotated and the hash of its successor: a page
-- whose requests present the same old token at once, on any instance, gets that same
-- successor again within the grace window instead of being taken for a thief.
ALTER TABLE refresh_tokens ADD COLUMN rotated_at bigint, ADD COLUMN successor bytea;
