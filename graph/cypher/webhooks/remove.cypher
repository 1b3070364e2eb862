// Remove a webhook; returns how many were removed.
// params: $webhook_id
MATCH (w:Webhook {webhook_id: $webhook_id})
DELETE w
RETURN count(*) AS removed
