// Active persons with the most source records (a good person to show).
// params: $limit
MATCH (p:Person {status: 'active'})
WHERE p.record_count IS NOT NULL
RETURN p.person_id AS person_id, p.record_count AS records
ORDER BY records DESC, person_id
LIMIT $limit
