// The closures of several persons' records at once, by person.
// params: $person_ids
MATCH (c:Closure)
WHERE c.person_id IN $person_ids
RETURN c {.closure_id, .person_id, .scope, .target, .created_by, created_at: toString(c.created_at)} AS closure
ORDER BY c.created_at
