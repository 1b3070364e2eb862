// A citizen ends a grant to a relative on one of their records.
// params: $grant_id, $person_ids
MATCH (g:AccessGrant {grant_id: $grant_id, kind: 'relative'})
WHERE g.person_id IN $person_ids
DELETE g
RETURN $grant_id AS grant_id
