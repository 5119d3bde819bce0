-- The login and pairing gate cannot be jammed (issue 19); see the SQLite migration of the
-- same version.
DELETE FROM login_failures;
CREATE INDEX login_failures_at ON login_failures (failed_at);
CREATE TABLE login_clients (
    client       TEXT COLLATE "C" PRIMARY KEY,
    succeeded_at TEXT COLLATE "C" NOT NULL
);
ALTER TABLE kiosks ADD COLUMN pairing_failures BIGINT NOT NULL DEFAULT 0;
