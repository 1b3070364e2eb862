// A citizen ends a grant on one of their records: a relative's, or a clinician's by consent.
// params: $grant_id, $person_ids
MATCH (g:AccessGrant {grant_id: $grant_id})
WHERE g.person_id IN $person_ids
DELETE g
RETURN $grant_id AS grant_id
