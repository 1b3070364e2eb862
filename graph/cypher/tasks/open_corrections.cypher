// Open correction requests, oldest first, with the person they are about and the current value.
// params: $limit
MATCH (t:CorrectionRequest {status: 'open'})-[:ABOUT]->(p:Person)
RETURN t.task_id AS task_id, t.field AS field, t.value AS value, t.note AS note, t.requested_by AS requested_by,
       toString(t.created_at) AS created_at, p.person_id AS person_id,
       CASE t.field WHEN 'phone' THEN p.phone ELSE p.address_text END AS current
ORDER BY created_at LIMIT $limit
