-- A split's successors may each carry their share, in thousandths (issue 20); see the SQLite
-- migration of the same version.
ALTER TABLE agency_successors ADD COLUMN share BIGINT CHECK (share BETWEEN 1 AND 1000);
