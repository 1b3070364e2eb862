// Attach conditions, allergies, disabilities, risk factors and family history to their source record.
// params: $rows
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MERGE (c:Condition {key: row.key})
SET c.category = row.category, c.code = row.code, c.text = row.text, c.relative = row.relative,
    c.recorded_on = date(row.recorded_on)
MERGE (r)-[:REPORTED]->(c)
WITH c, row
CALL (c, row) {
  MATCH (d:Disease {icd10: row.icd10})
  MERGE (c)-[:IS_DISEASE]->(d)
}
