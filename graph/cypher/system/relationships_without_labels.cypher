// Every relationship between two nodes that have none of $labels, with its type and properties.
// params: $labels
MATCH (a)-[r]->(b)
WHERE none(l IN labels(a) WHERE l IN $labels) AND none(l IN labels(b) WHERE l IN $labels)
RETURN elementId(a) AS start, elementId(b) AS end, type(r) AS type, properties(r) AS props
