// Delete up to $limit nodes with their relationships; returns how many were deleted.
// params: $limit
MATCH (n)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
