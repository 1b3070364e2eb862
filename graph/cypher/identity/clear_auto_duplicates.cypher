// Remove open possible-duplicate marks (before a rebuild recomputes them).
// params: none
MATCH (:Person)-[d:POSSIBLE_DUPLICATE {status: 'open'}]-(:Person)
DELETE d
