// The MATCH-linked records of each person, with the fields the golden record is chosen from.
// params: $ids
UNWIND $ids AS id
MATCH (p:Person {person_id: id})
OPTIONAL MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p)
RETURN id AS person_id, collect(r {.uid, .source, .name, .birth_date, .birth_precision, .birth_year,
       .personal_id, .pid_ok, .sex, .phone, .commune, .province, .address_text, .household_code,
       .household_relation, .bhxh, .cmnd, .recorded_at}) AS records
