-- A response's answers move into its own row, as JSON objects keyed by code:
--   answers      {"A1": 4, "A2": null, …}   (null: shown but skipped, not a valid answer)
--   expectations {"X3": 2, …}                (only the areas the respondent rated)
--   profile      {"gender": "nu", …}         (only the questions answered)
-- One row per response instead of about thirty: storing, exporting and rebuilding the
-- aggregates read and write a fraction of the pages. SQL's JSON functions still read them.
ALTER TABLE responses ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE responses ADD COLUMN expectations TEXT NOT NULL DEFAULT '{}';
ALTER TABLE responses ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';

UPDATE responses SET
    answers = coalesce(
        (SELECT json_group_object(criterion_code, value) FROM answers WHERE response_id = responses.id), '{}'),
    expectations = coalesce(
        (SELECT json_group_object(area_code, value) FROM expectation_answers WHERE response_id = responses.id), '{}'),
    profile = coalesce(
        (SELECT json_group_object(question_code, option_code) FROM profile_answers WHERE response_id = responses.id), '{}');

DROP TABLE answers;
DROP TABLE expectation_answers;
DROP TABLE profile_answers;
