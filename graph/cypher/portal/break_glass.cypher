// A break-the-glass read: a task for the data protection officer at once, open until they find it
// justified or a breach.
// params: $flag_id, $username, $role, $facility, $person_hash, $province, $reason
CREATE (f:AccessFlag {flag_id: $flag_id, kind: 'break_glass', status: 'open', flagged_by: 'hoso',
                      note: $reason, username: $username, role: $role, facility: $facility,
                      endpoint: '/emergency', person_hash: $person_hash, province: $province,
                      created_at: datetime(), accessed_at: datetime()})
RETURN f.flag_id AS flag_id
