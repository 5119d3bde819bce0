-- A registry upload is applied only against the registry its preview was made from (issue 19);
-- see the SQLite migration of the same version.
ALTER TABLE agency_imports ADD COLUMN registry_fingerprint TEXT COLLATE "C";
