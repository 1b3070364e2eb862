// How many relationships tie a node without any of $labels to one with one of them (an initial import
// regenerates the second kind and carries the first over, so such a tie would be lost).
// params: $labels
MATCH (a)-[r]-(b)
WHERE none(l IN labels(a) WHERE l IN $labels) AND any(l IN labels(b) WHERE l IN $labels)
RETURN count(r) AS ties
