// Consent at the point of care: codes (by their keyed hash) and the grants they become.
CREATE INDEX consent_code_hash IF NOT EXISTS FOR (c:ConsentCode) ON (c.code_hash);
CREATE INDEX access_grant_reader IF NOT EXISTS FOR (g:AccessGrant) ON (g.username, g.person_id);
