// A consent code a citizen gives a clinician at the point of care (from the portal, or sent to the phone
// on file at the clinician's request), kept as its keyed hash: it opens the person's record to the one
// clinician who enters it, once, for $grant_hours.
// params: $code_hash, $person_id, $kind, $created_by, $ttl_seconds, $grant_hours
MATCH (p:Person {person_id: $person_id, status: 'active'})
CREATE (c:ConsentCode {code_hash: $code_hash, person_id: $person_id, kind: $kind, created_by: $created_by,
                       created_at: datetime(), expires_at: datetime() + duration({seconds: $ttl_seconds}),
                       grant_hours: $grant_hours, used: false})
RETURN toString(c.expires_at) AS expires_at
