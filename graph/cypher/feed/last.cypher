// The number of the newest change-feed event (0 before the first).
// params: none
OPTIONAL MATCH (s:FeedSequence {name: 'person_events'})
RETURN coalesce(s.value, 0) AS last
