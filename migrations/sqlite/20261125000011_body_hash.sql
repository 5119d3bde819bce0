-- A digest of what each response said (its first 8 bytes of SHA-256, see storage::responses), so
-- that a retry with the same id and a different body is told apart from a plain retry (409 vs
-- 200). Responses stored before this migration have none: a retry of one is taken as the same.
ALTER TABLE responses ADD COLUMN body_hash INTEGER;
