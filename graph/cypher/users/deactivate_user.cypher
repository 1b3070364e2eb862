// Deactivate an account: it can no longer sign in, and every token it holds stops working.
// params: $username
MATCH (u:User {username: $username})
SET u.active = false, u.tokens_valid_after = datetime()
RETURN u.username AS username, u.role AS role
