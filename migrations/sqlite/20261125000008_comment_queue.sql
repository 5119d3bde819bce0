-- Comments waiting for moderation, and approved ones by agency, without scanning every response.
CREATE INDEX responses_comments ON responses (comment_status, agency_code) WHERE comment IS NOT NULL;
