// The last number the change feed gave (no row before the first event).
// params: none
MATCH (s:FeedSequence {name: 'person_events'})
RETURN coalesce(s.value, 0) AS value
