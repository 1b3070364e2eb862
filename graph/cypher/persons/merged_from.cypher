// The retired ids that were merged into a person.
// params: $person_id
MATCH (old:Person)-[:MERGED_INTO]->(:Person {person_id: $person_id})
RETURN collect(old.person_id) AS ids
