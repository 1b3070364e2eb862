// Number the change-feed events one transaction created, after the last number given. The write lock
// on the sequence is taken first (SET before the read), so two transactions never read the same last
// number; it is held until the commit, so numbers follow the order in which changes commit.
// params: $token
MATCH (e:PersonEvent {pending: $token})
WITH e ORDER BY e.order, e.uid, e.person_id
WITH collect(e) AS events
WHERE size(events) > 0
MERGE (s:FeedSequence {name: 'person_events'})
SET s.locked = true
WITH s, events
WITH s, events, coalesce(s.value, 0) AS last
SET s.value = last + size(events)
REMOVE s.locked
WITH last, events
UNWIND range(0, size(events) - 1) AS i
WITH events[i] AS e, last + i + 1 AS seq
SET e.seq = seq
REMOVE e.pending, e.order
RETURN count(e) AS sequenced
