// Record that two persons are different people: their possible-duplicate mark is closed for good.
// params: $a, $b, $actor, $reason
MATCH (a:Person {person_id: $a})
MATCH (b:Person {person_id: $b})
OPTIONAL MATCH (a)-[d:POSSIBLE_DUPLICATE]-(b)
DELETE d
MERGE (a)-[n:NOT_DUPLICATE]->(b)
SET n.by = $actor, n.reason = $reason, n.at = datetime()
RETURN a.person_id AS a
