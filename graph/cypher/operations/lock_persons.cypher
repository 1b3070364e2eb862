// Take the write lock of the given persons (in id order) and return their versions and status:
// the first step of every operation, so two concurrent changes serialise on the lock and the
// second one sees the first one's version.
// params: $ids, $token
UNWIND $ids AS id
WITH id ORDER BY id
MATCH (p:Person {person_id: id})
SET p.lock_token = $token
RETURN p.person_id AS person_id, coalesce(p.version, 0) AS version, p.status AS status
