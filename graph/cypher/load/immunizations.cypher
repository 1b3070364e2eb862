// Attach immunizations to their source record, with vaccine and facility.
// params: $rows
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MERGE (i:Immunization {key: row.key})
SET i.date = date(row.date), i.dose = row.dose, i.reaction = row.reaction, i.next_due = date(row.next_due),
    i.pregnancy_month = row.pregnancy_month
MERGE (r)-[:RECEIVED]->(i)
WITH i, row
MATCH (v:Vaccine {code: row.vaccine})
MERGE (i)-[:OF_VACCINE]->(v)
WITH i, row
CALL (i, row) {
  MATCH (f:Facility {code: row.facility})
  MERGE (i)-[:AT]->(f)
}
