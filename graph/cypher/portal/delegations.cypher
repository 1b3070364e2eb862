// The unexpired grants on some persons' records: to relatives the citizen named, and to clinicians the
// person consented to at the point of care.
// params: $person_ids
MATCH (g:AccessGrant)
WHERE g.person_id IN $person_ids AND g.expires_at > datetime()
RETURN g {.grant_id, .username, .person_id, .kind, .created_by, created_at: toString(g.created_at),
          expires_at: toString(g.expires_at)} AS grant
ORDER BY g.created_at
