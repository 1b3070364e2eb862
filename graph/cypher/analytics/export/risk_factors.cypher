// Analytics projection: risk factors (e.g. smoking) reported in the commune health records of active persons.
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:REPORTED]->
      (c:Condition {category: 'risk_factor'})
RETURN p.person_id AS person_id, c.code AS code
