// How many nodes carry each of $labels (a label no node carries is counted 0).
// params: $labels
UNWIND $labels AS label
CALL (label) { MATCH (n) WHERE label IN labels(n) RETURN count(n) AS count }
RETURN label, count
