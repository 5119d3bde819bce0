-- Staff accounts, server-side sessions, failed logins (for throttling) and the audit log.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,                 -- argon2id, PHC string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'staff')),
    agency_code   TEXT REFERENCES agencies (code),
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    CHECK ((role = 'admin') = (agency_code IS NULL))
);

-- A session is known by the SHA-256 of its cookie value; the cookie itself is never stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    username  TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, failed_at);

-- Admin actions, append-only.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,                      -- username, or 'cli'
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL
);
