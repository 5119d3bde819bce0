-- The login and pairing gate cannot be jammed (issue 19).
-- login_failures.ip now holds the client's throttling key (an IPv4 address, or the /64 of an
-- IPv6 address), and username only an existing account's name (an unknown name is counted
-- under a digest keyed by a secret that never leaves the server's memory). Rows kept from
-- before may hold what was typed as a username: they are at most 15 minutes of throttling.
DELETE FROM login_failures;
-- Every server counts the failures of the last minute (the global budget).
CREATE INDEX login_failures_at ON login_failures (failed_at);
-- Clients (throttling keys) that logged in, and when last: they keep trying when the global
-- budget of failures is spent. Pruned after 30 days.
CREATE TABLE login_clients (
    client       TEXT PRIMARY KEY,
    succeeded_at TEXT NOT NULL
);
-- Wrong pairing codes typed anywhere since this kiosk's code was issued; the code dies at 5.
ALTER TABLE kiosks ADD COLUMN pairing_failures INTEGER NOT NULL DEFAULT 0;
