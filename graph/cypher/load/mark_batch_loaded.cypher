// Record that every fact of a batch is in the graph.
// params: $batch_id, $counts
MERGE (b:Batch {batch_id: $batch_id})
SET b.facts_loaded_at = datetime(), b.fact_counts = $counts
