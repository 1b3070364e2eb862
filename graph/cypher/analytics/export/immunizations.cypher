// Analytics projection: the doses active persons received, from any source.
// params: none
MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:RECEIVED]->(i:Immunization)
      -[:OF_VACCINE]->(v:Vaccine)
RETURN p.person_id AS person_id, v.code AS vaccine, i.dose AS dose, toString(i.date) AS date
