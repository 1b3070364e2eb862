// Append one audit entry (no names or ids in clear: the person is a keyed hash).
// params: $username, $role, $method, $endpoint, $status, $person_hash, $client
CREATE (a:AuditEntry {at: datetime(), username: $username, role: $role, method: $method, endpoint: $endpoint,
                      status: $status, person_hash: $person_hash, client: $client})
