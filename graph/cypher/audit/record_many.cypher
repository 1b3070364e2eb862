// Append audit entries shipped from an API process's spool; idempotent on the entry id. Each row has
// id, at, username, role, facility, method, endpoint, status, person_hash and client.
// params: $rows
UNWIND $rows AS row
MERGE (a:AuditEntry {id: row.id})
  ON CREATE SET a.at = datetime(row.at), a.username = row.username, a.role = row.role, a.facility = row.facility,
                a.method = row.method,
                a.endpoint = row.endpoint, a.status = row.status, a.person_hash = row.person_hash,
                a.client = row.client
