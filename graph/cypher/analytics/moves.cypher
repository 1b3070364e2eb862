// Moves between communes seen through the addresses of a person's records over time: each change of
// commune between consecutive records (by recording time) whose later record falls in the period.
// params: $start, $end
MATCH (p:Person {status: 'active'})
MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p)
WHERE r.commune IS NOT NULL AND r.recorded_at IS NOT NULL
WITH p, r ORDER BY r.recorded_at
WITH p, collect([r.commune, r.province, r.recorded_at]) AS seq
WHERE size(seq) > 1
UNWIND range(1, size(seq) - 1) AS i
WITH seq[i - 1] AS before, seq[i] AS after
WHERE before[0] <> after[0] AND after[2] >= $start AND after[2] < $end
RETURN before[1] AS from_province, before[0] AS from_commune, after[1] AS to_province, after[0] AS to_commune,
       count(*) AS moves
