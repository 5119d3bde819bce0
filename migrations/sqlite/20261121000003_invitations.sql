-- Survey links per dossier. Nothing here is referenced by `responses`: an answer cannot be
-- traced back to its invitation, dossier or officer (docs/privacy.md).

CREATE TABLE procedures (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE invitations (
    id             INTEGER PRIMARY KEY,
    dossier_code   TEXT NOT NULL UNIQUE,            -- one invitation per dossier (mã hồ sơ)
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    token_hash     TEXT NOT NULL UNIQUE,            -- SHA-256 of the link token
    created_by     INTEGER REFERENCES users (id),   -- NULL when pushed by one-stop software
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    answered_at    TEXT                             -- set in the transaction that stores the answer
);
