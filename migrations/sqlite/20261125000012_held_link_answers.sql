-- Link answers between the claim of their invitation and the mixed batch that stores them
-- (docs/privacy.md): a claim and its answer are never committed together. Each is sealed with a
-- key kept outside the database (derived from the link secret) and found by a keyed hash of its
-- response id; the row is deleted (and, with secure_delete, zeroed) when the batch stores it.
CREATE TABLE held_link_answers (
    id_tag     BLOB PRIMARY KEY,   -- HMAC-SHA256 of the response id
    sealed     BLOB NOT NULL,      -- nonce ‖ ChaCha20-Poly1305 of the answer
    held_since TEXT NOT NULL       -- the hour it came in: released by the end of that hour
) WITHOUT ROWID;

-- Claims are no longer made in the answer's transaction.
-- (invitations.answered_at: set when the answer is taken and held, to the hour.)
