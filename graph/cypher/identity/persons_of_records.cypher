// The persons the given records belong to (their MATCH), with every record of those persons: what
// incremental linking decides a batch against, read by index from the records the batch met instead
// of every assignment in the graph. Links written by the run $exclude_run (an
// attempt cut short, planned again) do not count, unless a reviewer made them.
// params: $uids, $exclude_run
UNWIND $uids AS uid
MATCH (:SourceRecord {uid: uid})-[l:LINKED_TO {state: 'MATCH'}]->(p:Person)
WHERE l.origin = 'MANUAL' OR $exclude_run IS NULL OR l.run_id <> $exclude_run
WITH DISTINCT p
MATCH (r:SourceRecord)-[m:LINKED_TO {state: 'MATCH'}]->(p)
WHERE m.origin = 'MANUAL' OR $exclude_run IS NULL OR m.run_id <> $exclude_run
RETURN r.uid AS uid, p.person_id AS person_id
