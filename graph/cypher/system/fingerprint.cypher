// Counts of nodes per label and relationships per type: what a restored graph is compared by.
// params: none
CALL () { MATCH (n) UNWIND labels(n) AS label RETURN collect({kind: 'label', name: label}) AS items }
CALL () { MATCH ()-[r]->() RETURN collect({kind: 'type', name: type(r)}) AS rels }
UNWIND items + rels AS item
RETURN item.kind AS kind, item.name AS name, count(*) AS count
ORDER BY kind, name
