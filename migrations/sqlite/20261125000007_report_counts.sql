-- Report aggregates: tallies of responses per Vietnam day and per month, per competent agency,
-- service point, channel and questionnaire version, for everyone and per profile answer
-- (facet = 'gender', facet_value = 'nu', …). The response writer keeps them in the transaction
-- that stores the responses; reports read them and never scan the responses.
-- `counts` is a JSON list in the layout of the questionnaire version (app/src/domain/tally.rs):
-- [responses, comments, criterion × levels 1..5 …, expectation area × levels 1..4 …].
CREATE TABLE report_counts (
    grain                 TEXT NOT NULL CHECK (grain IN ('day', 'month')),
    facet                 TEXT NOT NULL,
    span                  TEXT NOT NULL,   -- 'YYYY-MM-DD' or 'YYYY-MM', Vietnam time
    agency_code           TEXT NOT NULL REFERENCES agencies (code),
    service_point_code    TEXT NOT NULL REFERENCES agencies (code),
    channel               TEXT NOT NULL CHECK (channel IN ('kiosk', 'link')),
    questionnaire_version TEXT NOT NULL REFERENCES questionnaires (version),
    facet_value           TEXT NOT NULL,
    counts                TEXT NOT NULL,
    PRIMARY KEY (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value)
) WITHOUT ROWID;
