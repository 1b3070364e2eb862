// How many source records the real-time matcher's candidates are drawn from (the population the
// model's prior is scaled to). Read from the count store: constant time whatever the graph's size.
// params: none
MATCH (r:SourceRecord) RETURN count(r) AS records
