// Analytics projection: chronic conditions listed in the commune health records of active persons.
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:REPORTED]->
      (:Condition {category: 'chronic'})-[:IS_DISEASE]->(d:Disease)
RETURN p.person_id AS person_id, d.icd10 AS icd10
