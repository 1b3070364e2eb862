// Pairs of persons a reviewer marked as different people.
// params: none
MATCH (a:Person)-[:NOT_DUPLICATE]->(b:Person)
RETURN a.person_id AS a, b.person_id AS b
