// Remove an account (its audit entries keep its name); tokens it holds stop working.
// params: $username
MATCH (u:User {username: $username})
WITH u, u.username AS username
DETACH DELETE u
RETURN username
