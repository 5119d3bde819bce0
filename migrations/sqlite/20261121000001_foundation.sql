-- Foundation schema: questionnaires, the agency tree, kiosks, responses and their answers.
-- Timestamps are UTC text in RFC 3339 with a fixed width ("2026-01-09T17:00:00.000Z"),
-- so that text order is time order.

CREATE TABLE questionnaires (
    version     TEXT PRIMARY KEY,
    body        TEXT NOT NULL,            -- the questionnaire file, as loaded; never updated
    loaded_at   TEXT NOT NULL,
    is_current  INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1))
);
CREATE UNIQUE INDEX questionnaires_one_current ON questionnaires (is_current) WHERE is_current = 1;

-- The agency tree. valid_from/valid_to and successors let the tree change shape over time.
CREATE TABLE agencies (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('province', 'department', 'commune', 'service_centre', 'service_branch', 'vertical')),
    parent_code TEXT REFERENCES agencies (code),
    valid_from  TEXT,
    valid_to    TEXT,
    successor_code TEXT REFERENCES agencies (code)
);
CREATE INDEX agencies_parent ON agencies (parent_code);

-- Which agencies' procedures a service point (a centre, a branch, a commune office) receives.
CREATE TABLE service_point_agencies (
    service_point_code TEXT NOT NULL REFERENCES agencies (code),
    agency_code        TEXT NOT NULL REFERENCES agencies (code),
    PRIMARY KEY (service_point_code, agency_code)
);

CREATE TABLE kiosks (
    id          INTEGER PRIMARY KEY,
    agency_code TEXT NOT NULL REFERENCES agencies (code),   -- the service point it stands in
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,                       -- SHA-256 of the bearer token
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- One row per response. `id` is made by the client, so a retried submission is stored once.
CREATE TABLE responses (
    id                    TEXT PRIMARY KEY,
    questionnaire_version TEXT NOT NULL REFERENCES questionnaires (version),
    agency_code           TEXT NOT NULL REFERENCES agencies (code),  -- competent for the procedure
    service_point_code    TEXT NOT NULL REFERENCES agencies (code),  -- where it was collected
    kiosk_id              INTEGER REFERENCES kiosks (id),
    channel               TEXT NOT NULL CHECK (channel IN ('kiosk', 'link')),
    submitted_at          TEXT NOT NULL,
    comment               TEXT,
    comment_status        TEXT CHECK (comment_status IN ('pending', 'approved', 'rejected'))
) WITHOUT ROWID; -- no insertion-ordered rowid that could pair a response with an invitation
CREATE INDEX responses_agency_time ON responses (agency_code, submitted_at);

-- A skipped criterion is stored with value NULL: shown but not answered, not a valid answer.
CREATE TABLE answers (
    response_id    TEXT NOT NULL REFERENCES responses (id),
    criterion_code TEXT NOT NULL,
    value          INTEGER CHECK (value BETWEEN 1 AND 5),
    PRIMARY KEY (response_id, criterion_code)
) WITHOUT ROWID;

CREATE TABLE expectation_answers (
    response_id TEXT NOT NULL REFERENCES responses (id),
    area_code   TEXT NOT NULL,
    value       INTEGER NOT NULL CHECK (value BETWEEN 1 AND 4),
    PRIMARY KEY (response_id, area_code)
) WITHOUT ROWID;

-- Optional respondent profile (age band, gender, …): question code → chosen option code.
CREATE TABLE profile_answers (
    response_id   TEXT NOT NULL REFERENCES responses (id),
    question_code TEXT NOT NULL,
    option_code   TEXT NOT NULL,
    PRIMARY KEY (response_id, question_code)
) WITHOUT ROWID;
