// Write each person's golden record (null values remove what no record supports any more).
// params: $rows
UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id})
SET p += row.props, p.golden_updated_at = datetime(), p.golden_dirty = null
