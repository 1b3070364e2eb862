// Every active person id.
// params: none
MATCH (p:Person {status: 'active'})
RETURN p.person_id AS person_id
