// Reviewers' link decisions (a record taken off its person included) that were not undone, with the
// links before and after: labelled pairs for measuring the model.
// params: none
MATCH (e:LinkEvent)
WHERE e.action IN ['link:MATCH', 'link:NO_MATCH', 'unlink'] AND e.undone_by IS NULL
RETURN e.action AS action, e.before AS before, e.after AS after
