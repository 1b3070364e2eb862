// The children under 18 whose records a person reads (as persons/viewer_relation allows): their own
// children, and the children of their household; these are the records whose disclosures they see too.
// params: $person_id, $adult_year
MATCH (me:Person {person_id: $person_id})
CALL (me) {
  MATCH (me)-[:PARENT_OF]->(c:Person {status: 'active'})
  RETURN c
  UNION
  MATCH (me)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF {relation: 'Con'}]-(c:Person {status: 'active'})
  RETURN c
}
WITH DISTINCT c
WHERE coalesce(c.birth_year, 0) > $adult_year
RETURN c.person_id AS person_id, c.name AS name
