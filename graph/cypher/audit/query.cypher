// Audit entries, newest first, optionally about one person (by its keyed hash) or one user.
// params: $person_hash, $username, $limit
MATCH (a:AuditEntry)
WHERE ($person_hash IS NULL OR a.person_hash = $person_hash) AND ($username IS NULL OR a.username = $username)
RETURN a {.id, .username, .role, .facility, .method, .endpoint, .status, .person_hash, .client, at: toString(a.at)} AS entry
ORDER BY a.at DESC
LIMIT $limit
