// Record one linking run with what it did.
// params: $run_id, $kind, $model_version, $batches, $stats
MERGE (run:LinkRun {run_id: $run_id})
SET run.kind = $kind, run.model_version = $model_version, run.batches = $batches,
    run.stats = $stats, run.at = datetime()
WITH run
UNWIND $batches AS batch_id
MERGE (b:Batch {batch_id: batch_id})
SET b.linked_at = datetime()
MERGE (run)-[:LINKED]->(b)
