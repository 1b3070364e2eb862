// A citizen's request to correct a field of a person's record: an open task for staff.
// params: $task_id, $person_id, $field, $value, $note, $requested_by
MATCH (p:Person {person_id: $person_id})
CREATE (t:CorrectionRequest {task_id: $task_id, field: $field, value: $value, note: $note,
        requested_by: $requested_by, status: 'open', created_at: datetime()})-[:ABOUT]->(p)
RETURN t.task_id AS task_id
