// A clinician enters a consent code: an open, unexpired code is used up and becomes a grant to that
// clinician for its hours. No row when the code opens nothing.
// params: $code_hash, $username, $grant_id
MATCH (c:ConsentCode {code_hash: $code_hash})
WHERE NOT c.used AND c.expires_at > datetime()
SET c.used = true, c.used_by = $username, c.used_at = datetime()
CREATE (g:AccessGrant {grant_id: $grant_id, username: $username, person_id: c.person_id, kind: 'consent',
                       created_at: datetime(), expires_at: datetime() + duration({hours: c.grant_hours})})
RETURN g.person_id AS person_id, toString(g.expires_at) AS expires_at
