// Visits, doses, vital signs and reported conditions of linked records, in the rows `load/encounters`,
// `load/immunizations`, `load/observations` and `load/conditions` take: what the warm-up writes back
// unchanged, in transactions it rolls back.
// params: $limit
CALL () {
  MATCH (r:SourceRecord)-[:HAD_ENCOUNTER]->(e:Encounter)
  WITH r, e LIMIT $limit
  OPTIONAL MATCH (e)-[:AT]->(f:Facility)
  OPTIONAL MATCH (e)-[x:DIAGNOSED]->(d:Disease)
  WITH r, e, f, collect(CASE WHEN d IS NOT NULL THEN {code: d.icd10, role: x.role} END) AS diagnoses
  RETURN collect({uid: r.uid, key: e.key, encounter_id: e.encounter_id, facility: f.code,
                  admitted_at: toString(e.admitted_at), discharged_at: toString(e.discharged_at),
                  outcome: e.outcome, visit_type: e.visit_type, reason: e.reason, diagnoses: diagnoses}) AS encounters
}
CALL () {
  MATCH (r:SourceRecord)-[:RECEIVED]->(i:Immunization)-[:OF_VACCINE]->(v:Vaccine)
  WITH r, i, v LIMIT $limit
  OPTIONAL MATCH (i)-[:AT]->(f:Facility)
  RETURN collect({uid: r.uid, key: i.key, vaccine: v.code, dose: i.dose, date: toString(i.date), facility: f.code,
                  reaction: i.reaction, next_due: toString(i.next_due),
                  pregnancy_month: i.pregnancy_month}) AS immunizations
}
CALL () {
  MATCH (r:SourceRecord)-[:OBSERVED]->(o:Observation)
  WITH r, o LIMIT $limit
  OPTIONAL MATCH (o)-[:DURING]->(e:Encounter)
  RETURN collect({uid: r.uid, key: o.key, code: o.code, value: o.value, unit: o.unit,
                  observed_at: toString(o.observed_at), device: o.device, encounter_key: e.key}) AS observations
}
CALL () {
  MATCH (r:SourceRecord)-[:REPORTED]->(c:Condition)
  WITH r, c LIMIT $limit
  OPTIONAL MATCH (c)-[:IS_DISEASE]->(d:Disease)
  RETURN collect({uid: r.uid, key: c.key, category: c.category, code: c.code, text: c.text, icd10: d.icd10,
                  relative: c.relative, recorded_on: toString(c.recorded_on)}) AS conditions
}
RETURN encounters, immunizations, observations, conditions
