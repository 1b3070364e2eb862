// Labelled pairs from reviewers: each record a reviewer linked (MANUAL MATCH) with up to five other
// records of the same person. `hoso train --with-reviews` learns the m values from them.
// params: none
MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH', origin: 'MANUAL'}]->(p:Person)
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(o:SourceRecord)
WHERE o.uid <> r.uid
WITH r, collect(o.uid)[..5] AS others
UNWIND others AS other
RETURN r.uid AS uid_l, other AS uid_r
