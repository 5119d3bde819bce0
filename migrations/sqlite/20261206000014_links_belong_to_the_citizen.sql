-- Survey links belong to the citizen (issue 19). A link's token is random from now on, and the
-- database keeps only its hash; for a short while after it is made (`reprint_until`, the
-- province's setting) and while a message carrying it waits to be sent, the token is also kept
-- sealed (ChaCha20-Poly1305, key derived from the link secret, which is not in the database), so
-- that the officer who made it can print the slip again and the delivery worker can send it.
-- Then it is erased: nobody, staff or admin, can show that link again.
ALTER TABLE invitations ADD COLUMN link_sealed BLOB;
ALTER TABLE invitations ADD COLUMN reprint_until TEXT;

-- Where a session signed in from, to flag a link answered from an officer's own address.
ALTER TABLE sessions ADD COLUMN ip TEXT;

-- Signs that an officer may be answering for citizens, on the invitation and the officer, never
-- on an answer (nothing joins an answer to anyone). `hour` is when it was seen, truncated (UTC).
CREATE TABLE invitation_flags (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('over_daily_limit', 'answered_quickly', 'officer_address')),
    officer_id    INTEGER REFERENCES users (id),
    invitation_id INTEGER REFERENCES invitations (id),
    hour          TEXT NOT NULL,
    occurrences   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX invitation_flags_hour ON invitation_flags (hour);
CREATE INDEX invitations_created_by ON invitations (created_by, created_at);
-- The delivery worker's sweep of links to erase reads only the few still sealed.
CREATE INDEX invitations_sealed ON invitations (reprint_until) WHERE link_sealed IS NOT NULL;
