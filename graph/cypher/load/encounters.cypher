// Attach encounters to their source record, with facility and diagnoses (main and secondary).
// params: $rows
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MERGE (e:Encounter {key: row.key})
SET e.encounter_id = row.encounter_id, e.admitted_at = datetime(row.admitted_at),
    e.discharged_at = datetime(row.discharged_at), e.outcome = row.outcome, e.visit_type = row.visit_type,
    e.reason = row.reason
MERGE (r)-[:HAD_ENCOUNTER]->(e)
WITH e, row
CALL (e, row) {
  MATCH (f:Facility {code: row.facility})
  MERGE (e)-[:AT]->(f)
}
CALL (e, row) {
  UNWIND row.diagnoses AS dx
  MATCH (d:Disease {icd10: dx.code})
  MERGE (e)-[x:DIAGNOSED]->(d)
  SET x.role = dx.role
}
