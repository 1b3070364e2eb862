// Every disclosure of some persons' records (by their keyed hashes) to anyone but the viewer: successful
// reads of the audit trail, newest first, with the facility's name.
// params: $hashes, $viewer, $limit
MATCH (a:AuditEntry)
WHERE a.person_hash IN $hashes AND a.status >= 200 AND a.status < 300 AND a.username <> $viewer
WITH a ORDER BY a.at DESC LIMIT $limit
OPTIONAL MATCH (f:Facility {code: a.facility})
RETURN a {.id, .username, .role, .facility, .method, .endpoint, .person_hash, at: toString(a.at),
          facility_name: f.name} AS entry
