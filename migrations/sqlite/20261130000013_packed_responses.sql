-- A response in under 200 bytes (issue 9), stored beside those of its agency and hour:
--   PRIMARY KEY (agency_code, hour, id): appends cluster by agency and hour, and inside an hour
--   rows sit in the order of the client's random id, never of arrival (docs/privacy.md).
--   hour: hours since 1970-01-01T00:00Z (the time was kept to the hour already).
--   id: the client's UUID as 16 bytes; still stored once across all time (responses_id).
--   answers, expectations, profile: one character per criterion, improvement area and profile
--   question of the row's questionnaire version, in its order (app/src/storage/packed.rs):
--     answers       '1'..'5' the level, '-' shown but skipped, '.' not in the response;
--     expectations  '1'..'4', '.' not rated;
--     profile       the chosen option's place, '1'..'9' then 'a'..'z', '.' not answered.
--   channel: 0 kiosk, 1 link (SQLite's record format stores either in no bytes).
-- Exports and rebuilds read in key order, so responses_agency_time goes; each kiosk's responses
-- of a day are counted in kiosk_days by the writer, instead of responses_kiosk_time's entry per
-- response.

CREATE TABLE responses_packed (
    agency_code           TEXT NOT NULL REFERENCES agencies (code),  -- competent for the procedure
    hour                  INTEGER NOT NULL,
    id                    BLOB NOT NULL CHECK (length(id) = 16),
    questionnaire_version TEXT NOT NULL REFERENCES questionnaires (version),
    service_point_code    TEXT NOT NULL REFERENCES agencies (code),  -- where it was collected
    kiosk_id              INTEGER REFERENCES kiosks (id),
    channel               INTEGER NOT NULL CHECK (channel IN (0, 1)),
    answers               TEXT NOT NULL CHECK (answers NOT GLOB '*[^1-5.-]*'),
    expectations          TEXT NOT NULL CHECK (expectations NOT GLOB '*[^1-4.]*'),
    profile               TEXT NOT NULL CHECK (profile NOT GLOB '*[^1-9a-z.]*'),
    body_hash             INTEGER,
    comment               TEXT,
    comment_status        TEXT CHECK (comment_status IN ('pending', 'approved', 'rejected')),
    PRIMARY KEY (agency_code, hour, id)
) WITHOUT ROWID;

-- Where each question of each stored questionnaire version sits.
CREATE TEMP TABLE layout_criteria AS
    SELECT q.version, c.value ->> 'code' AS code,
           row_number() OVER (PARTITION BY q.version ORDER BY e.key, c.key) AS place
    FROM questionnaires q, json_each(q.body, '$.elements') e, json_each(e.value, '$.criteria') c;
CREATE TEMP TABLE layout_areas AS
    SELECT q.version, a.value ->> 'code' AS code, a.key AS place
    FROM questionnaires q, json_each(q.body, '$.expectations.areas') a;
CREATE TEMP TABLE layout_profile AS
    SELECT q.version, p.value ->> 'code' AS code, p.key AS place
    FROM questionnaires q, json_each(q.body, '$.profile') p;
CREATE TEMP TABLE layout_options AS
    SELECT q.version, p.value ->> 'code' AS question, o.value ->> 'code' AS code,
           nullif(substr('123456789abcdefghijklmnopqrstuvwxyz', min(o.key) + 1, 1), '') AS symbol
    FROM questionnaires q, json_each(q.body, '$.profile') p, json_each(p.value, '$.options') o
    GROUP BY 1, 2, 3;

-- Each packed text is NULL, which stops the migration, when a stored code or option has no
-- place in its questionnaire: nothing is dropped without a word.
INSERT INTO responses_packed (agency_code, hour, id, questionnaire_version, service_point_code, kiosk_id, channel,
                              answers, expectations, profile, body_hash, comment, comment_status)
SELECT r.agency_code,
       unixepoch(r.submitted_at) / 3600,
       unhex(replace(r.id, '-', '')),
       r.questionnaire_version,
       r.service_point_code,
       r.kiosk_id,
       CASE r.channel WHEN 'kiosk' THEN 0 WHEN 'link' THEN 1 END,
       (SELECT CASE WHEN count(a.key) = (SELECT count(*) FROM json_each(r.answers))
                    THEN coalesce(group_concat(CASE WHEN a.key IS NULL THEN '.' WHEN a.type = 'null' THEN '-'
                                                    ELSE a.atom END, '' ORDER BY l.place), '') END
        FROM layout_criteria l LEFT JOIN json_each(r.answers) a ON a.key = l.code
        WHERE l.version = r.questionnaire_version),
       (SELECT CASE WHEN count(a.key) = (SELECT count(*) FROM json_each(r.expectations))
                    THEN coalesce(group_concat(coalesce(a.atom, '.'), '' ORDER BY l.place), '') END
        FROM layout_areas l LEFT JOIN json_each(r.expectations) a ON a.key = l.code
        WHERE l.version = r.questionnaire_version),
       (SELECT CASE WHEN count(o.symbol) = (SELECT count(*) FROM json_each(r.profile))
                    THEN coalesce(group_concat(coalesce(o.symbol, '.'), '' ORDER BY l.place), '') END
        FROM layout_profile l
        LEFT JOIN json_each(r.profile) a ON a.key = l.code
        LEFT JOIN layout_options o ON o.version = l.version AND o.question = l.code AND o.code = a.value
        WHERE l.version = r.questionnaire_version),
       r.body_hash,
       r.comment,
       r.comment_status
FROM responses r
ORDER BY 1, 2, 3;

DROP TABLE layout_criteria;
DROP TABLE layout_areas;
DROP TABLE layout_profile;
DROP TABLE layout_options;

-- Responses of each kiosk per Vietnam day ("responses today" on /admin/kiosks): one small row
-- per kiosk and day, added to in the transaction that stores the responses.
CREATE TABLE kiosk_days (
    kiosk_id  INTEGER NOT NULL REFERENCES kiosks (id),
    day       TEXT NOT NULL,   -- 'YYYY-MM-DD', Vietnam time
    responses INTEGER NOT NULL CHECK (responses >= 0),
    PRIMARY KEY (kiosk_id, day)
) WITHOUT ROWID;
INSERT INTO kiosk_days (kiosk_id, day, responses)
    SELECT kiosk_id, date(submitted_at, '+7 hours'), COUNT(*) FROM responses WHERE kiosk_id IS NOT NULL GROUP BY 1, 2;

-- Its indexes (responses_agency_time, responses_kiosk_time, responses_comments) go with it.
DROP TABLE responses;
ALTER TABLE responses_packed RENAME TO responses;
CREATE UNIQUE INDEX responses_id ON responses (id);
-- Comments waiting for moderation, and approved ones by agency, without scanning every response.
CREATE INDEX responses_comments ON responses (comment_status, agency_code) WHERE comment IS NOT NULL;
