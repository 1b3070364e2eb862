// Remove up to $limit automatic links (before a rebuild writes them anew); reviewers' links stay. A
// record keeps the person its MATCH pointed to (`feed_previous`) until the rebuild links it again, so
// the change feed tells only of records that really changed person.
// params: $limit
MATCH (r:SourceRecord)-[l:LINKED_TO {origin: 'AUTO'}]->(p:Person)
WITH r, l, p LIMIT $limit
SET r.feed_previous = CASE WHEN l.state = 'MATCH' THEN p.person_id ELSE r.feed_previous END
DELETE l
RETURN count(*) AS deleted
