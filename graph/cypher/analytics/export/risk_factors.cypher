// Analytics projection: risk factors (e.g. smoking) reported in the commune health records of active persons.
// params: none
MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:REPORTED]->
      (c:Condition {category: 'risk_factor'})
RETURN p.person_id AS person_id, c.code AS code
