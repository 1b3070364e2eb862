// The links of a source record (state, origin, person, the model's probability), for the history's
// before/after: a reviewer's decision on an automatic link is then a labelled pair with its probability.
// params: $uid
MATCH (r:SourceRecord {uid: $uid})
OPTIONAL MATCH (r)-[l:LINKED_TO]->(p:Person)
RETURN r.uid AS uid, r.source AS source,
       collect(CASE WHEN p IS NULL THEN NULL ELSE {person_id: p.person_id, state: l.state, origin: l.origin,
                                                        probability: l.probability} END) AS links
