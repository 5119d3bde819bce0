-- Survey links sent by SMS or e-mail. The contact is the only personal data hailong holds: it is
-- set to NULL as soon as the message is sent, fails for good, or its invitation is answered or
-- expires (docs/privacy.md). Like invitations, nothing here is referenced by `responses`.

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    invitation_id   INTEGER NOT NULL REFERENCES invitations (id),
    medium          TEXT NOT NULL CHECK (medium IN ('sms', 'email')),
    recipient       TEXT,                      -- phone or address; NULL once no longer needed
    recipient_hint  TEXT NOT NULL,             -- masked, for the officer: 091•••••78
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,                      -- a short cause without the contact in it
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (invitation_id, medium),
    CHECK (status = 'queued' OR recipient IS NULL)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';
