// Create persons that do not exist yet (a person id is never reused); each new one is a
// `person_created` event of the change feed.
// params: $rows, $feed_tx
UNWIND $rows AS row
OPTIONAL MATCH (known:Person {person_id: row.person_id})
WITH row WHERE known IS NULL
CREATE (p:Person {person_id: row.person_id, created_at: datetime(), status: 'active'})
CREATE (:PersonEvent {pending: $feed_tx, order: 0, at: datetime(), type: 'person_created',
                      person_id: row.person_id})
RETURN count(p) AS created
