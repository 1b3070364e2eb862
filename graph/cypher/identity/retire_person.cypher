// Retire a person that lost all its records to another one: its id resolves to the survivor.
// params: $retired, $survivor, $reason
MATCH (old:Person {person_id: $retired})
MATCH (new:Person {person_id: $survivor})
WHERE old <> new AND NOT EXISTS { (old)<-[:LINKED_TO {state: 'MATCH'}]-() }
SET old.status = 'retired', old.retired_at = datetime()
MERGE (old)-[m:MERGED_INTO]->(new)
ON CREATE SET m.at = datetime(), m.reason = $reason
RETURN old.person_id AS retired
