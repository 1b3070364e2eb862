// A delivery the system acknowledged: the cursor moves to its last event, the failures are forgotten.
// params: $webhook_id, $after
MATCH (w:Webhook {webhook_id: $webhook_id})
SET w.after = $after, w.failures = 0, w.last_error = null, w.delivered_at = datetime(), w.next_try_at = datetime()
RETURN w.after AS after
