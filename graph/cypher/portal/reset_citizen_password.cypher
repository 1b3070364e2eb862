// A new password for the citizen account of a person (password reset); tokens issued before stop working.
// params: $person_id, $password_hash
MATCH (u:User {role: 'citizen', person_id: $person_id})
SET u.password_hash = $password_hash, u.tokens_valid_after = datetime(), u.active = true
RETURN u.username AS username
