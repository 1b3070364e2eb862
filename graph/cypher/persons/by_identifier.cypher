// Active persons holding a personal id, social insurance number or CMND: in their golden record, or in
// a record linked to them (a person merged into another, or a value outvoted in the golden record,
// still finds the person who holds it). One branch per property, each an index seek.
// params: $kind, $value
CALL () {
  MATCH (p:Person {personal_id: $value}) WHERE $kind = 'personal_id' RETURN p
  UNION
  MATCH (p:Person {bhxh: $value}) WHERE $kind = 'bhxh' RETURN p
  UNION
  MATCH (p:Person {cmnd: $value}) WHERE $kind = 'cmnd' RETURN p
  UNION
  MATCH (r:SourceRecord {personal_id: $value})-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  WHERE $kind = 'personal_id' RETURN p
  UNION
  MATCH (r:SourceRecord {bhxh: $value})-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  WHERE $kind = 'bhxh' RETURN p
  UNION
  MATCH (r:SourceRecord {cmnd: $value})-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  WHERE $kind = 'cmnd' RETURN p
}
WITH p WHERE p.status = 'active'
RETURN DISTINCT p.person_id AS person_id
ORDER BY person_id
LIMIT 20
