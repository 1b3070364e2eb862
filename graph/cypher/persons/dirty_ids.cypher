// Persons whose links changed since their golden record was last computed.
// params: none
MATCH (p:Person) WHERE p.golden_dirty
RETURN p.person_id AS person_id
