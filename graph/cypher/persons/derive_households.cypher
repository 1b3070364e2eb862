// Place each person in the household of its golden record, and the household in its commune.
// params: $ids
UNWIND $ids AS id
MATCH (p:Person {person_id: id})
OPTIONAL MATCH (p)-[old:MEMBER_OF]->(:Household)
DELETE old
WITH DISTINCT p
WHERE p.household_code IS NOT NULL AND p.status = 'active'
MERGE (h:Household {code: p.household_code})
MERGE (p)-[m:MEMBER_OF]->(h)
SET m.relation = p.household_relation
WITH h, p
CALL (h, p) {
  MATCH (u:AdminUnit {uid: 'post2025:commune:' + p.commune})
  MERGE (h)-[:LOCATED_IN]->(u)
}
