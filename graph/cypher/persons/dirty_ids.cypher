// Persons whose links changed since their golden record was last computed (an equality, so that the
// index on golden_dirty answers it instead of a scan of every person).
// params: none
MATCH (p:Person) WHERE p.golden_dirty = true
RETURN p.person_id AS person_id
