// The status of a correction request (no row when there is no such request).
// params: $task_id
MATCH (t:CorrectionRequest {task_id: $task_id})
RETURN t.status AS status
