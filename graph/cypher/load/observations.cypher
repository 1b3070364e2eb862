// Attach observations (vital signs from visits and devices) to their source record and encounter.
// params: $rows
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MERGE (o:Observation {key: row.key})
SET o.code = row.code, o.value = row.value, o.unit = row.unit, o.observed_at = datetime(row.observed_at),
    o.device = row.device
MERGE (r)-[:OBSERVED]->(o)
WITH o, row
CALL (o, row) {
  MATCH (e:Encounter {key: row.encounter_key})
  MERGE (o)-[:DURING]->(e)
}
