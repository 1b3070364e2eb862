// Count one more change on each person.
// params: $ids
UNWIND $ids AS id
MATCH (p:Person {person_id: id})
SET p.version = coalesce(p.version, 0) + 1, p.lock_token = null
RETURN p.person_id AS person_id, p.version AS version
