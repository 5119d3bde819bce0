-- no-transaction
-- Province setup (issue 7): the versioned agency registry with successor links, kiosks paired by
-- one-time code, invitations unique per (competent agency, dossier), login throttling by IP, an
-- append-only audit log. Three tables are rebuilt (SQLite cannot drop a UNIQUE or NOT NULL in
-- place), so this migration runs outside sqlx's transaction with foreign keys off, in its own
-- transaction; `Db::migrate` runs `PRAGMA foreign_key_check` afterwards.
PRAGMA foreign_keys = OFF;
BEGIN;

-- The agency registry. An agency is open from valid_from (NULL: since ever) until valid_to
-- (exclusive; NULL: still open). A closed agency has one or more successors in agency_successors.
CREATE TABLE agencies_v6 (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('province', 'department', 'commune', 'service_centre', 'service_branch', 'vertical')),
    parent_code TEXT REFERENCES agencies (code),
    valid_from  TEXT,
    valid_to    TEXT,
    CHECK (parent_code IS NULL OR parent_code <> code),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
INSERT INTO agencies_v6 (code, name, kind, parent_code, valid_from, valid_to)
    SELECT code, name, kind, parent_code, valid_from, valid_to FROM agencies;
DROP TABLE agencies;
ALTER TABLE agencies_v6 RENAME TO agencies;
CREATE INDEX agencies_parent ON agencies (parent_code);

-- Merge (many → one), split (one → many), rename or move (one → one with a new code): effective
-- on the closed agency's valid_to.
CREATE TABLE agency_successors (
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    successor_code TEXT NOT NULL REFERENCES agencies (code),
    PRIMARY KEY (agency_code, successor_code),
    CHECK (agency_code <> successor_code)
);
CREATE INDEX agency_successors_successor ON agency_successors (successor_code);

-- A CSV uploaded on /admin/agencies, kept until it is applied so the preview and the apply read
-- the same text.
CREATE TABLE agency_imports (
    id          INTEGER PRIMARY KEY,
    csv         TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    applied_at  TEXT
);

-- Kiosks: registered with a one-time pairing code (only its hash is kept), which the tablet
-- exchanges for a device token (only its hash is kept). Revoking clears the token.
CREATE TABLE kiosks_v6 (
    id                 INTEGER PRIMARY KEY,
    agency_code        TEXT NOT NULL REFERENCES agencies (code),   -- the service point it stands in
    name               TEXT NOT NULL,
    token_hash         TEXT UNIQUE,                             -- NULL until paired, and once revoked
    pairing_code_hash  TEXT UNIQUE,                             -- while a pairing is pending
    pairing_expires_at TEXT,
    paired_at          TEXT,
    last_seen_at       TEXT,                                    -- kept to the minute, never at submit
    created_at         TEXT NOT NULL,
    revoked_at         TEXT,
    CHECK ((pairing_code_hash IS NULL) = (pairing_expires_at IS NULL))
);
INSERT INTO kiosks_v6 (id, agency_code, name, token_hash, paired_at, created_at, revoked_at)
    SELECT id, agency_code, name, CASE WHEN revoked_at IS NULL THEN token_hash END, created_at, created_at, revoked_at
    FROM kiosks;
DROP TABLE kiosks;
ALTER TABLE kiosks_v6 RENAME TO kiosks;
CREATE INDEX responses_kiosk_time ON responses (kiosk_id, submitted_at);

-- What the kiosk limits noticed, per kiosk, kind and hour; the responses themselves are kept.
CREATE TABLE kiosk_anomalies (
    id          INTEGER PRIMARY KEY,
    kiosk_id    INTEGER NOT NULL REFERENCES kiosks (id),
    kind        TEXT NOT NULL CHECK (kind IN ('rate_limited', 'burst', 'identical')),
    hour        TEXT NOT NULL,                    -- the hour it was seen in (UTC, truncated)
    occurrences INTEGER NOT NULL DEFAULT 1,
    UNIQUE (kiosk_id, kind, hour)
);

-- Invitations: one per dossier of a competent agency; two agencies may use the same dossier code.
CREATE TABLE invitations_v6 (
    id             INTEGER PRIMARY KEY,
    dossier_code   TEXT NOT NULL,
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    token_hash     TEXT NOT NULL UNIQUE,            -- SHA-256 of the link token
    created_by     INTEGER REFERENCES users (id),   -- NULL when pushed by one-stop software
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    answered_at    TEXT,                            -- set in the transaction that stores the answer
    UNIQUE (agency_code, dossier_code)
);
INSERT INTO invitations_v6 SELECT id, dossier_code, procedure_code, agency_code, token_hash, created_by, created_at, expires_at, answered_at
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_v6 RENAME TO invitations;

ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- Throttling counts failures per IP and per IP + username; rows older than the window are pruned.
DROP INDEX login_failures_username;
ALTER TABLE login_failures ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_ip ON login_failures (ip, failed_at);
CREATE INDEX login_failures_ip_username ON login_failures (ip, username, failed_at);

-- The audit log keeps where an action came from and can only grow.
ALTER TABLE audit_log ADD COLUMN ip TEXT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

COMMIT;
PRAGMA foreign_keys = ON;
