// Retire a person that lost all its records to another one: its id resolves to the survivor, and the
// change feed tells of the merge.
// params: $retired, $survivor, $reason, $feed_tx
MATCH (old:Person {person_id: $retired})
MATCH (new:Person {person_id: $survivor})
WHERE old <> new AND old.status = 'active' AND NOT EXISTS { (old)<-[:LINKED_TO {state: 'MATCH'}]-() }
SET old.status = 'retired', old.retired_at = datetime()
MERGE (old)-[m:MERGED_INTO]->(new)
ON CREATE SET m.at = datetime(), m.reason = $reason
CREATE (:PersonEvent {pending: $feed_tx, order: 0, at: datetime(), type: 'person_merged', person_id: $retired,
                      other_person_id: $survivor, province: old.province})
RETURN old.person_id AS retired
