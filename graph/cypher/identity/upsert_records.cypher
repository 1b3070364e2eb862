// Create or update source records with their standardised identity fields (keyed by uid).
// params: $rows
UNWIND $rows AS row
MERGE (r:SourceRecord {uid: row.uid})
SET r += row.props
