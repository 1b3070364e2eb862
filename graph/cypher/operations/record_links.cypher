// The links of a source record (state, origin, person), for the history's before/after.
// params: $uid
MATCH (r:SourceRecord {uid: $uid})
OPTIONAL MATCH (r)-[l:LINKED_TO]->(p:Person)
RETURN r.uid AS uid, r.source AS source,
       collect(CASE WHEN p IS NULL THEN NULL ELSE {person_id: p.person_id, state: l.state, origin: l.origin} END) AS links
