// Analytics projection: the commune of each record of an active person and when it was recorded (for moves).
// params: none
MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)
WHERE r.commune IS NOT NULL AND r.recorded_at IS NOT NULL
RETURN p.person_id AS person_id, r.commune AS commune, r.province AS province, r.recorded_at AS recorded_at
