// Create or update an account (role, facility and province for staff, person for a citizen); tokens
// issued before stop working, so a changed role takes effect at once.
// params: $username, $password_hash, $role, $facility, $province, $person_id
MERGE (u:User {username: $username})
ON CREATE SET u.created_at = datetime()
SET u.password_hash = $password_hash, u.role = $role, u.facility = $facility, u.province = $province,
    u.person_id = $person_id, u.active = true, u.tokens_valid_after = datetime()
RETURN u.username AS username
