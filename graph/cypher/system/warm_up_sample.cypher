// Records linked to a person, with the properties of both and their link: what the warm-up writes back
// unchanged, in transactions it rolls back (`graph.warmup`).
// params: $limit
MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->(p:Person)
WITH r, l, p LIMIT $limit
RETURN r.uid AS uid, r {.*} AS record, p.person_id AS person_id, p {.*} AS person,
       l.probability AS probability, l.match_weight AS match_weight, l.weights AS weights, l.pair_uid AS pair_uid
