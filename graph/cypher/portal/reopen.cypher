// A citizen opens again what they closed: only a closure of one of $person_ids.
// params: $closure_id, $person_ids
MATCH (c:Closure {closure_id: $closure_id})
WHERE c.person_id IN $person_ids
DELETE c
RETURN $closure_id AS closure_id
