-- Dossiers completed per agency and month (số hồ sơ đã giải quyết), entered by the province from
-- its one-stop software: the N of a ranking's minimum sample where survey links do not cover
-- every dossier. One row per agency and month; entering a month again replaces it.
CREATE TABLE dossier_counts (
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    month       TEXT NOT NULL,   -- 'YYYY-MM'
    completed   INTEGER NOT NULL CHECK (completed >= 0),
    entered_at  TEXT NOT NULL,
    PRIMARY KEY (agency_code, month)
) WITHOUT ROWID;
