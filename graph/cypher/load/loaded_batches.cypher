// Batches whose facts are completely loaded.
// params: none
MATCH (b:Batch) WHERE b.facts_loaded_at IS NOT NULL
RETURN b.batch_id AS batch_id
