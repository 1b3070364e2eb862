// One account by its username.
// params: $username
MATCH (u:User {username: $username})
RETURN u {.username, .password_hash, .role, .facility, .province, .person_id, .active} AS user
