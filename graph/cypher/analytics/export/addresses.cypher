// Analytics projection: the commune of each record of an active person and when it was recorded (for moves).
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)
WHERE r.commune IS NOT NULL AND r.recorded_at IS NOT NULL
RETURN p.person_id AS person_id, r.commune AS commune, r.province AS province, r.recorded_at AS recorded_at
