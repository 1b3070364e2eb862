// Close an open correction request as accepted or rejected, by whom and why; no row when the task is
// unknown or was decided already (the caller tells which with tasks/correction_status).
// params: $task_id, $status, $actor, $reason
MATCH (t:CorrectionRequest {task_id: $task_id, status: 'open'})-[:ABOUT]->(p:Person)
SET t.status = $status, t.decided_by = $actor, t.decided_at = datetime(), t.reason = $reason
RETURN t.field AS field, t.value AS value, p.person_id AS person_id
