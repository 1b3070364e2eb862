// The flags a citizen raised, with the finding once there is one.
// params: $flagged_by
MATCH (f:AccessFlag {flagged_by: $flagged_by})
RETURN f.entry_id AS entry_id, f.flag_id AS flag_id, f.status AS status, f.reason AS reason
