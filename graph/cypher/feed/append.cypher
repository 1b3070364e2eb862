// Add change-feed events (type, person, other person, record) for a change made in this transaction.
// params: $events, $feed_tx
UNWIND range(0, size($events) - 1) AS i
WITH i, $events[i] AS event
CREATE (e:PersonEvent {pending: $feed_tx, order: i, at: datetime(), type: event.type,
                       person_id: event.person_id, other_person_id: event.other_person_id, uid: event.uid,
                       province: event.province})
RETURN count(e) AS added
