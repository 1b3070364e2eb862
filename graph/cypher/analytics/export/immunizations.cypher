// Analytics projection: the doses active persons received, from any source.
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:RECEIVED]->(i:Immunization)
      -[:OF_VACCINE]->(v:Vaccine)
RETURN p.person_id AS person_id, v.code AS vaccine, i.dose AS dose, toString(i.date) AS date
