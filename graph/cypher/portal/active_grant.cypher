// Whether an account holds an unexpired grant to read a person (the person's consent at the point of care).
// params: $username, $person_id
MATCH (g:AccessGrant {username: $username, person_id: $person_id})
WHERE g.expires_at > datetime()
RETURN g.grant_id AS grant_id, toString(g.expires_at) AS expires_at
LIMIT 1
