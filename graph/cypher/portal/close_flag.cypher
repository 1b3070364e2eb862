// The data protection officer's finding on a flagged access: justified (care, a duty) or a breach.
// Only a flag of the officer's province ($province; null: any).
// params: $flag_id, $finding, $reason, $actor, $province
MATCH (f:AccessFlag {flag_id: $flag_id, status: 'open'})
WHERE $province IS NULL OR f.province = $province
SET f.status = $finding, f.reason = $reason, f.closed_by = $actor, f.closed_at = datetime()
RETURN f.flag_id AS flag_id, f.status AS status
