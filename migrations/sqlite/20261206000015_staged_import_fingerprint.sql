-- A registry upload is applied only against the registry its preview was made from (issue 19):
-- the SHA-256 of the registry as it stood when the file was uploaded
-- (`domain::registry::fingerprint`). Uploads kept from before have none and must be uploaded again.
ALTER TABLE agency_imports ADD COLUMN registry_fingerprint TEXT;
