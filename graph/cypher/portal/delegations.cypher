// The unexpired grants to relatives on some persons' records.
// params: $person_ids
MATCH (g:AccessGrant {kind: 'relative'})
WHERE g.person_id IN $person_ids AND g.expires_at > datetime()
RETURN g {.grant_id, .username, .person_id, .created_by, created_at: toString(g.created_at),
          expires_at: toString(g.expires_at)} AS grant
ORDER BY g.created_at
