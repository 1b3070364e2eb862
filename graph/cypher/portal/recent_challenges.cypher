// How many codes one personal id (by its keyed hash) was sent in the last hour.
// params: $id_hash
MATCH (c:Challenge {id_hash: $id_hash})
WHERE c.created_at > datetime() - duration({hours: 1})
RETURN count(c) AS n
