// A citizen lets another citizen's account (a named relative) read a record for a number of days.
// No row when no active citizen account has that name.
// params: $grant_id, $username, $person_id, $days, $created_by
MATCH (u:User {username: $username, role: 'citizen'})
WHERE coalesce(u.active, true)
CREATE (g:AccessGrant {grant_id: $grant_id, username: $username, person_id: $person_id, kind: 'relative',
                       created_by: $created_by, created_at: datetime(),
                       expires_at: datetime() + duration({days: $days})})
RETURN g.grant_id AS grant_id, toString(g.expires_at) AS expires_at
