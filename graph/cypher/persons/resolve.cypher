// The surviving person of an id: itself when active, else the end of its MERGED_INTO chain.
// params: $person_id
MATCH (p:Person {person_id: $person_id})
OPTIONAL MATCH (p)-[:MERGED_INTO*1..10]->(survivor:Person {status: 'active'})
RETURN p.person_id AS requested, coalesce(survivor.person_id, p.person_id) AS person_id,
       p.status AS status
