// A delivery that failed: the cursor stays, the next try waits $delay_seconds (longer after each failure).
// params: $webhook_id, $error, $delay_seconds
MATCH (w:Webhook {webhook_id: $webhook_id})
SET w.failures = w.failures + 1, w.last_error = $error,
    w.next_try_at = datetime() + duration({seconds: $delay_seconds})
RETURN w.failures AS failures
