// Review items are server-side objects: an open POSSIBLE_MATCH link or POSSIBLE_DUPLICATE mark carries
// the id of its item (given by linking, removed by a decision), found through these indexes.
CREATE INDEX review_item_match IF NOT EXISTS FOR ()-[l:LINKED_TO]-() ON (l.item_id);
CREATE INDEX review_item_duplicate IF NOT EXISTS FOR ()-[d:POSSIBLE_DUPLICATE]-() ON (d.item_id);
// The change feed: one PersonEvent per change of persons, numbered by the one FeedSequence in the
// transaction of the change.
CREATE CONSTRAINT person_event_seq IF NOT EXISTS FOR (e:PersonEvent) REQUIRE e.seq IS UNIQUE;
CREATE INDEX person_event_pending IF NOT EXISTS FOR (e:PersonEvent) ON (e.pending);
CREATE CONSTRAINT feed_sequence_name IF NOT EXISTS FOR (s:FeedSequence) REQUIRE s.name IS UNIQUE;
// Items that were open before items had ids get one now.
MATCH ()-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->() WHERE l.item_id IS NULL
SET l.item_id = 'pm-' + randomUUID(), l.item_since = coalesce(l.updated_at, datetime());
MATCH ()-[d:POSSIBLE_DUPLICATE {status: 'open'}]->() WHERE d.item_id IS NULL
SET d.item_id = 'pd-' + randomUUID(), d.item_since = coalesce(d.created_at, datetime());
