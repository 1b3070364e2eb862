// Every node that has none of $labels, with its labels and properties: what an initial import carries
// over from the graph it replaces (accounts, the audit trail, webhooks...).
// params: $labels
MATCH (n)
WHERE none(l IN labels(n) WHERE l IN $labels)
RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props
