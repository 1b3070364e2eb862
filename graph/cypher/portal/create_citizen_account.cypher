// A citizen's own account, created by self-registration: only when the name is free and the person has
// no citizen account yet (checked in the same transaction, so two registrations cannot both succeed).
// params: $username, $password_hash, $person_id
OPTIONAL MATCH (taken:User {username: $username})
OPTIONAL MATCH (existing:User {role: 'citizen', person_id: $person_id})
WITH taken, existing
WHERE taken IS NULL AND existing IS NULL
CREATE (u:User {username: $username, password_hash: $password_hash, role: 'citizen', person_id: $person_id,
                facility: null, province: null, active: true, created_at: datetime(),
                tokens_valid_after: datetime(), registered_by: 'self'})
RETURN u.username AS username
