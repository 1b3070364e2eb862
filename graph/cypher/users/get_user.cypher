// One account by its username.
// params: $username
MATCH (u:User {username: $username})
RETURN u {.username, .password_hash, .role, .facility, .province, .person_id, .active,
          tokens_valid_after: u.tokens_valid_after.epochSeconds} AS user
