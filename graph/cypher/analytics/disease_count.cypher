// How many ICD-10 codes the graph holds: an incremental refresh of the projection re-reads them only
// when a batch added some (codes are only ever added). Answered from the count store.
// params: none
MATCH (d:Disease)
RETURN count(d) AS diseases
