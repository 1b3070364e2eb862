// Analytics projection: the visits of active persons (reached through MATCH links), with the ICD-10 codes
// each visit names (one entry per DIAGNOSED relationship).
// params: none
MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->(e:Encounter)
RETURN p.person_id AS person_id, e.admitted_at.epochMillis AS admitted_ms,
       [(e)-[:DIAGNOSED]->(d:Disease) | d.icd10] AS codes
