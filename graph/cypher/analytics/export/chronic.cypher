// Analytics projection: chronic conditions listed in the commune health records of active persons.
// params: none
MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:REPORTED]->
      (:Condition {category: 'chronic'})-[:IS_DISEASE]->(d:Disease)
RETURN p.person_id AS person_id, d.icd10 AS icd10
