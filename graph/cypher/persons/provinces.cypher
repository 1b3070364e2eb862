// The province of each of a few persons (the survivor's when an id was merged), for the access
// decision on a list of candidates.
// params: $ids
UNWIND $ids AS id
MATCH (asked:Person {person_id: id})
OPTIONAL MATCH (asked)-[:MERGED_INTO*1..10]->(survivor:Person {status: 'active'})
WITH id, coalesce(survivor, asked) AS p
RETURN id AS person_id, p.province AS province
