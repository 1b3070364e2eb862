// Reviewers' decisions: every manual link (record, person, state) and every link event, for the backup.
// params: none
CALL () {
  MATCH (r:SourceRecord)-[l:LINKED_TO {origin: 'MANUAL'}]->(p:Person)
  RETURN collect({record: r.uid, person: p.person_id, state: l.state, updated_at: toString(l.updated_at)}) AS links
}
CALL () {
  MATCH (e:LinkEvent)
  RETURN collect(e {.*, at: toString(e.at)}) AS events
}
RETURN links, events
