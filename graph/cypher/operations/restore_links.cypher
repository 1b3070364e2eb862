// Put the links of records back as a snapshot holds them: every present link of each record goes, and
// the snapshot's links come back with all their properties (review items reopen with their ids).
// params: $uids, $links
UNWIND $uids AS uid
MATCH (r:SourceRecord {uid: uid})
OPTIONAL MATCH (r)-[l:LINKED_TO]->(p:Person)
SET p.golden_dirty = true
DELETE l
WITH DISTINCT r, uid
UNWIND [link IN $links WHERE link.uid = uid] AS link
MATCH (p:Person {person_id: link.person_id})
CREATE (r)-[l:LINKED_TO]->(p)
SET l = link.props, p.golden_dirty = true
RETURN count(l) AS restored
