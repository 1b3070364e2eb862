// Revoke every token an account holds now (it signs in again to get a new one).
// params: $username
MATCH (u:User {username: $username})
SET u.tokens_valid_after = datetime()
RETURN u.username AS username
