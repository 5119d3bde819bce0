-- Keys for one-stop software pushing "dossier returned" events; each is scoped to an agency subtree.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    key_hash    TEXT NOT NULL UNIQUE,        -- SHA-256; the key is shown once
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
