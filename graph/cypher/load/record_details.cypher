// Set the descriptive fields of source records that the profile shows (birth facts, address text...).
// params: $rows
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
SET r += row.props
