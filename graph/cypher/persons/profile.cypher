// A person's merged profile in the structure of the 831 record: administrative information (the
// golden record with provenance), history and risk factors, immunizations and visits, each item
// with the source record it came from. A retired id gives its surviving person (the end of its
// MERGED_INTO chain). In the same round trip, how a viewer (a citizen's own person; '' for staff)
// relates to that person: self, parent of a child under 18, or the same household where the person is
// a child under 18 (as persons/viewer_relation). No row when the id is unknown.
// params: $person_id, $viewer, $adult_year
MATCH (asked:Person {person_id: $person_id})
OPTIONAL MATCH (asked)-[:MERGED_INTO*1..10]->(survivor:Person {status: 'active'})
WITH coalesce(survivor, asked) AS p
OPTIONAL MATCH (me:Person {person_id: $viewer})
WITH p, {self: $viewer = p.person_id,
         parent: EXISTS { (me)-[:PARENT_OF]->(p) WHERE coalesce(p.birth_year, 0) > $adult_year },
         dependant: EXISTS { (me)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF {relation: 'Con'}]-(p)
                             WHERE coalesce(p.birth_year, 0) > $adult_year }} AS viewer
CALL (p) {
  OPTIONAL MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->(p)
  RETURN collect(r {.uid, .source, .source_system, .record_id, .name, .birth_date, .birth_precision, .sex,
         .personal_id, .bhxh, .phone, .commune, .address_text, .recorded_at,
         link_origin: l.origin, probability: l.probability}) AS records
}
CALL (p) {
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)-[:REPORTED]->(c:Condition)
  OPTIONAL MATCH (c)-[:IS_DISEASE]->(d:Disease)
  OPTIONAL MATCH (d)-[:IN_GROUP]->(:DiseaseGroup)-[:IN_GROUP]->(ch:DiseaseGroup)
  RETURN collect(c {.category, .code, .text, .relative, icd10: d.icd10, disease: d.name, disease_vi: d.name_vi,
                    chapter: ch.code, source: r.uid}) AS history
}
CALL (p) {  // a dose reported by two sources (the registry and the 831 record) is one dose, with both sources
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)-[:RECEIVED]->(i:Immunization)
  OPTIONAL MATCH (i)-[:OF_VACCINE]->(v:Vaccine)
  OPTIONAL MATCH (i)-[:AT]->(f:Facility)
  WITH i, v, f, r ORDER BY r.uid
  WITH v, i.date AS day, max(i.dose) AS dose, head(collect(i.reaction)) AS reaction, head(collect(f.code)) AS facility,
       collect(DISTINCT r.uid) AS sources, count(i) AS held
  WHERE held > 0
  WITH v, day, dose, reaction, facility, sources ORDER BY day
  OPTIONAL MATCH (at:Facility {code: facility})
  RETURN collect({date: toString(day), dose: dose, reaction: reaction, vaccine: v.code, vaccine_name: v.name,
                  facility: facility, facility_name: at.name, source: sources[0], sources: sources}) AS immunizations
}
CALL (p) {
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)-[:HAD_ENCOUNTER]->(e:Encounter)
  OPTIONAL MATCH (e)-[:AT]->(f:Facility)
  OPTIONAL MATCH (e)-[dx:DIAGNOSED]->(d:Disease)
  OPTIONAL MATCH (d)-[:IN_GROUP]->(:DiseaseGroup)-[:IN_GROUP]->(ch:DiseaseGroup)
  WITH r, e, f, collect(CASE WHEN d IS NULL THEN NULL
                        ELSE {icd10: d.icd10, name: d.name, name_vi: d.name_vi, chapter: ch.code, role: dx.role} END)
       AS diagnoses
  ORDER BY e.admitted_at DESC
  RETURN collect(e {.encounter_id, admitted_at: toString(e.admitted_at), discharged_at: toString(e.discharged_at),
         .outcome, .visit_type, facility: f.code, facility_name: f.name, diagnoses: diagnoses, source: r.uid}) AS visits
}
CALL (p) {
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)-[:OBSERVED]->(o:Observation)
  WITH r, o ORDER BY o.observed_at DESC
  RETURN collect(o {.code, .value, .unit, observed_at: toString(o.observed_at), .device, source: r.uid})[..50]
         AS observations
}
CALL (p) {
  OPTIONAL MATCH (p)-[m:MEMBER_OF]->(h:Household)
  OPTIONAL MATCH (h)<-[:MEMBER_OF]-(member:Person)
  RETURN h.code AS household, m.relation AS relation, collect(DISTINCT member.person_id) AS household_members
}
CALL (p) {
  OPTIONAL MATCH (p)-[:PARENT_OF]->(child:Person)
  RETURN collect(DISTINCT child.person_id) AS children,
         collect(DISTINCT child {.person_id, .name, .birth_year, relation: 'child'}) AS children_named
}
CALL (p) {
  OPTIONAL MATCH (parent:Person)-[:PARENT_OF]->(p)
  RETURN collect(DISTINCT parent.person_id) AS parents,
         collect(DISTINCT parent {.person_id, .name, .birth_year, relation: 'parent'}) AS parents_named
}
CALL (p) {
  OPTIONAL MATCH (old:Person)-[:MERGED_INTO]->(p)
  RETURN collect(old.person_id) AS merged_ids
}
RETURN p.person_id AS person_id, viewer, p {.*} AS person, records, history, immunizations, visits,
       observations, household, relation, household_members, children, parents, merged_ids,
       parents_named + children_named AS relatives
