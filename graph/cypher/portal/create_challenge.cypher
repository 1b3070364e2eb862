// A one-time code asked for (self-registration or password reset), stored as its keyed hash. A request
// that proved nothing gets one too, with no person, so that its answer and the count of codes per id
// look the same as for a real one.
// params: $id, $purpose, $id_hash, $person_id, $code_hash, $ttl_seconds
CREATE (c:Challenge {id: $id, purpose: $purpose, id_hash: $id_hash, person_id: $person_id,
                     code_hash: $code_hash, attempts: 0, state: 'open', created_at: datetime(),
                     expires_at: datetime() + duration({seconds: $ttl_seconds})})
RETURN c.id AS id
