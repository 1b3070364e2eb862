// Remove up to $limit automatic links (before a rebuild writes them anew); reviewers' links stay.
// params: $limit
MATCH (:SourceRecord)-[l:LINKED_TO {origin: 'AUTO'}]->(:Person)
WITH l LIMIT $limit
DELETE l
RETURN count(*) AS deleted
