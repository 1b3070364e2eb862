// How many source records of one batch have a MATCH link, and how many only POSSIBLE_MATCH links.
// params: $batch_id
MATCH (r:SourceRecord {batch_id: $batch_id})
OPTIONAL MATCH (r)-[m:LINKED_TO {state: 'MATCH'}]->(:Person)
WITH r, count(m) AS matches
OPTIONAL MATCH (r)-[p:LINKED_TO {state: 'POSSIBLE_MATCH'}]->(:Person)
WITH r, matches, count(p) AS possible
RETURN sum(CASE WHEN matches > 0 THEN 1 ELSE 0 END) AS matched,
       sum(CASE WHEN matches = 0 AND possible > 0 THEN 1 ELSE 0 END) AS review
