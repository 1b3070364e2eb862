// Reviewers' link decisions with the links before and after: labelled pairs for measuring the model.
// params: none
MATCH (e:LinkEvent)
WHERE e.action IN ['link:MATCH', 'link:NO_MATCH']
RETURN e.action AS action, e.before AS before, e.after AS after
