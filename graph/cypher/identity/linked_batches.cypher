// The batches whose records are already linked.
// params: none
MATCH (b:Batch) WHERE b.linked_at IS NOT NULL
RETURN b.batch_id AS batch_id
