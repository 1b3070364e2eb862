// Every automatic MATCH and POSSIBLE_MATCH link with the model's probability: what `hoso evaluate`
// checks the model's calibration and the review queue against.
// params: none
MATCH (r:SourceRecord)-[l:LINKED_TO]->(p:Person)
WHERE l.state IN ['MATCH', 'POSSIBLE_MATCH'] AND l.origin = 'AUTO' AND l.probability IS NOT NULL
RETURN r.uid AS uid, p.person_id AS person_id, l.state AS state, l.probability AS probability
