// The closures a person's record carries (a visit, a diagnosis group or the whole record, closed by the
// citizen to clinicians outside the facility that wrote it), oldest first.
// params: $person_id
MATCH (c:Closure {person_id: $person_id})
RETURN c {.closure_id, .person_id, .scope, .target, .created_by, created_at: toString(c.created_at)} AS closure
ORDER BY c.created_at
