// Write each person's golden record (null values remove what no record supports any more). A golden
// record that changed (not a person's first) is a `golden_changed` event of the change feed.
// params: $rows, $feed_tx
UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id})
WITH p, row, p.golden_updated_at IS NOT NULL
       AND any(k IN keys(row.props) WHERE NOT (p[k] = row.props[k] OR (p[k] IS NULL AND row.props[k] IS NULL)))
       AS changed
SET p += row.props, p.golden_updated_at = datetime(), p.golden_dirty = null
WITH p, changed WHERE changed
CREATE (:PersonEvent {pending: $feed_tx, order: 0, at: datetime(), type: 'golden_changed', person_id: p.person_id,
                      province: p.province})
RETURN count(*) AS changed
