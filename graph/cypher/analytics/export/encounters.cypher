// Analytics projection: the visits of active persons (reached through MATCH links), with the ICD-10 codes
// each visit names (one entry per DIAGNOSED relationship).
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->(e:Encounter)
RETURN p.person_id AS person_id, e.admitted_at.epochMillis AS admitted_ms,
       [(e)-[:DIAGNOSED]->(d:Disease) | d.icd10] AS codes
