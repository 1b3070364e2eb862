// Create a new, empty person (used by split and unlink).
// params: $person_id
CREATE (p:Person {person_id: $person_id, status: 'active', created_at: datetime(), version: 0,
                  golden_dirty: true})
RETURN p.person_id AS person_id
