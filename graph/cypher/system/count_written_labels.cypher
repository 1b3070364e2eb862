// How many nodes carry each label an initial import writes afresh (a graph holding any is not empty).
// Each count is a label's own (the count store answers it), so the check costs nothing on any graph.
// params: none
MATCH (n:SourceRecord) RETURN 'SourceRecord' AS label, count(n) AS count
UNION ALL
MATCH (n:Person) RETURN 'Person' AS label, count(n) AS count
UNION ALL
MATCH (n:Batch) RETURN 'Batch' AS label, count(n) AS count
UNION ALL
MATCH (n:LinkRun) RETURN 'LinkRun' AS label, count(n) AS count
UNION ALL
MATCH (n:Encounter) RETURN 'Encounter' AS label, count(n) AS count
UNION ALL
MATCH (n:Immunization) RETURN 'Immunization' AS label, count(n) AS count
UNION ALL
MATCH (n:Condition) RETURN 'Condition' AS label, count(n) AS count
UNION ALL
MATCH (n:Observation) RETURN 'Observation' AS label, count(n) AS count
UNION ALL
MATCH (n:Facility) RETURN 'Facility' AS label, count(n) AS count
UNION ALL
MATCH (n:Vaccine) RETURN 'Vaccine' AS label, count(n) AS count
UNION ALL
MATCH (n:Household) RETURN 'Household' AS label, count(n) AS count
UNION ALL
MATCH (n:PersonEvent) RETURN 'PersonEvent' AS label, count(n) AS count
