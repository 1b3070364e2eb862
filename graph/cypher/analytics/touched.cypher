// What the batches of a run touched: the persons their records belong to, and the facilities where
// their visits and doses took place (an incremental refresh of the projection re-reads these).
// params: $batches
CALL () {
  UNWIND $batches AS batch
  MATCH (r:SourceRecord {batch_id: batch})-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  RETURN collect(DISTINCT p.person_id) AS persons
}
CALL () {
  UNWIND $batches AS batch
  MATCH (r:SourceRecord {batch_id: batch})-[:HAD_ENCOUNTER|RECEIVED]->()-[:AT]->(f:Facility)
  RETURN collect(DISTINCT f.code) AS facilities
}
RETURN persons, facilities
