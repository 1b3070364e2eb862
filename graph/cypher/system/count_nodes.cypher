// Count every node in the database.
// params: none
MATCH (n)
RETURN count(n) AS nodes
