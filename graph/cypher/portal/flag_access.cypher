// A citizen flags one access to their record as unexpected: a task for the data protection officer,
// one per entry and citizen (flagging twice keeps the first flag). Only an entry about one of $hashes.
// $provinces maps each hash to its person's province, which the flag carries for that province's officer.
// params: $entry_id, $hashes, $provinces, $flag_id, $note, $flagged_by
MATCH (a:AuditEntry {id: $entry_id})
WHERE a.person_hash IN $hashes
MERGE (f:AccessFlag {entry_id: $entry_id, flagged_by: $flagged_by})
  ON CREATE SET f.flag_id = $flag_id, f.note = $note, f.status = 'open', f.created_at = datetime(),
                f.username = a.username, f.role = a.role, f.facility = a.facility, f.endpoint = a.endpoint,
                f.accessed_at = a.at, f.person_hash = a.person_hash, f.province = $provinces[a.person_hash]
RETURN f.flag_id AS flag_id, f.status AS status
