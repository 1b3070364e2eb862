// Every source record's MATCH person, with its origin and the run that wrote it: the state incremental
// linking builds on.
// params: none
MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->(p:Person)
RETURN r.uid AS uid, p.person_id AS person_id, l.origin AS origin, l.run_id AS run_id
